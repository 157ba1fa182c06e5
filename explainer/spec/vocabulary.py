"""Names the spec and the command line share, kept apart so that the command
line can offer them without loading the spec reader (``--help`` stays instant)."""

PAPERS = ("a4", "letter")
COLUMNS = (1, 2)
