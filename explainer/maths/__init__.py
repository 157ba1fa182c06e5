"""The mathematics: the network as SymPy symbols and local definitions, the
activation and loss functions, the formula records, the derivation as data
(sections of steps of equation chains), its independent checks (the composed
E_total and central differences), high-precision numbers and the two training
loops (straight-line Python and numpy).

It may import ``explainer.spec`` and nothing above it: it knows nothing of
documents, answer sheets or exercises.
"""
