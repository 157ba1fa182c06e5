"""Grading: reading answer sheets into claims, the names students give
quantities, taking formulas apart, lining a student's chain up with the
derivation's, the checker's verdicts, the hints that name a slip, reports and
class summaries.

It sits above the mathematics and the outputs and may import them and
``explainer.spec``; it imports neither the exercises nor the integrations.
"""
