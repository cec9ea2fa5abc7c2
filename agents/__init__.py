"""The roles of a run: who plans, writes, debugs and analyzes kernels.

`registry` resolves the built-in roles of a policy and the config's replacements and additions;
`llm_roles` are the LLM policy's roles (prompts in `prompts/`, answers parsed by `parsing`,
`structured`, `answers`; the client in `llm`, its endpoint probed by `endpoint`); `expert/` is the
offline expert policy (trace the model, emit Triton from templates, tune); `context` holds the
run-scoped `RunContext`. Roles read and write graph state; they never import `graphs/`.
"""
