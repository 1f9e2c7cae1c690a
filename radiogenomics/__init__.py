"""radiogenomics: transcriptomic drivers of tumour imaging traits.

Modules: ``parsers`` (real TCGA/TCIA formats), ``simulate`` (a TCGA-like
cohort with planted truth), ``targets`` (typed targets and presets),
``cohorts`` (cohorts and split files), ``nets`` and ``training`` (PyTorch
networks), ``evaluation`` (typed metrics), ``masking``, ``saliency``,
``enrichment`` (interpretation), ``survival`` and ``figures``.
"""

__version__ = "0.1.0"
