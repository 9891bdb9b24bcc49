"""Demo-snapshot generator: data/raw/ in real CBS OData v3 shapes, from the real CBS inputs copied to
data/external/cbs/, generating (and labelling) only what those inputs lack. Run `python -m tools.demo_snapshot`.

Contract: docs/shapes.md. Calibration targets: tools/demo_snapshot/targets.py (one place).
"""
