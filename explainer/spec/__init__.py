"""The spec: reading a network and its training from TOML, JSON or a mapping,
validating every field, the size limits, and the package's exceptions.

The bottom of the pipeline: it imports only the standard library, because the
command line reads specs before it loads anything heavy.  Every other stage may
import it; it imports none of them.
"""
