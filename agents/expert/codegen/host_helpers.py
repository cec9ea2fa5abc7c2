"""Host helpers that the generated code of more than one family calls; a solution file defines
each once, whichever stages need it (`solution` puts every distinct helper in the file once)."""

NTUPLE = '''
def kw_ntuple(v, n):
    # A window parameter as n ints (torch accepts an int or a tuple)
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n

'''
