from kernelwright.cli import entry

entry()
