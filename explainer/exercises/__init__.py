"""Exercises: per-student variants of a network, the rules of a nice exercise,
question sheets, worked solutions and answer keys, and class rosters.

It sits above grading (a nice exercise is one whose slips the checker can
tell apart) and may import every stage below it: the spec, the mathematics,
the outputs and grading.
"""
