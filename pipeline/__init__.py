"""Reproducible regeneration of chapter 6 of *Eigenwijs transformeren* (Verwey-Jonker Instituut, 2021).

Data flows one way: config -> fetch (cbsodata) -> raw snapshot -> build (indicators for all
municipalities, once) -> per-case notebook (select, tabulate, plot) -> render (HTML, index).
"""

__version__ = "0.1.0"
