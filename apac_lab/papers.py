"""The four source documents' own figures, quoted exactly, so that every notebook can put the
paper's number beside the number the learner just measured.

Each :class:`PaperFigure` holds a value, what it measures, and ``quote``: a passage copied
letter for letter from the text extraction in ``../shared/papers/`` (``tests/test_papers.py``
checks every quote against those files, and that the value is written in it). Percentages
are stored as fractions (``0.914`` for the paper's "91.4").

=================  =========================================================================  ========
key                document                                                                   notebook
=================  =========================================================================  ========
``riad2021``       R. Riad, J. Karadayi, A.-C. Bachoud-Lévi, E. Dupoux, "Learning               02
                   spectro-temporal representations of complex sounds with parameterized
                   neural networks", JASA 2021 (slides; arXiv 2103.07125)
``rothmann2018``   D. Rothmann, "Human-Like Machine Hearing With AI (2/3): the importance      03
                   of memory", 2018
``tax2017``        T. M. S. Tax, J. L. D. Antich, H. Purwins, L. Maaløe, "Utilizing Domain      04
                   Knowledge in End-to-End Audio Processing", NIPS ML4Audio workshop 2017
``cassetta2023``   N. Cassetta, "APAC-adabra: a deep learning model echoing the magic behind    05
                   the human auditory cortex", 2023
=================  =========================================================================  ========

This module is data only: it imports nothing of the package, so any layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PaperFigure", "PAPERS", "FIGURES", "figure", "figures_of", "paper_percentages", "CASSETTA_TABLE2",
           "CASSETTA_TABLE3", "CASSETTA_TABLE4", "RIAD_ENGINEERING_RESULTS"]

PAPERS: dict[str, dict[str, str]] = {
    "cassetta2023": {"file": "000_12e6fef93e25c432.txt", "cite": "Cassetta (2023)",
                     "title": "APAC-adabra: a deep learning model echoing the magic behind the human auditory cortex"},
    "riad2021": {"file": "001_b32d6e20df8b8d96.txt", "cite": "Riad et al. (2021)",
                 "title": "Learning spectro-temporal representations of complex sounds with parameterized neural "
                          "networks"},
    "rothmann2018": {"file": "002_f3fa76224f5e8adc.txt", "cite": "Rothmann (2018)",
                     "title": "Human-Like Machine Hearing With AI (2/3): the importance of memory"},
    "tax2017": {"file": "003_26cb76931fe4f366.txt", "cite": "Tax et al. (2017)",
                "title": "Utilizing Domain Knowledge in End-to-End Audio Processing"},
}


@dataclass(frozen=True)
class PaperFigure:
    """One figure of one paper.

    Args:
        paper (str): a key of :data:`PAPERS`.
        key (str): the figure's name in :data:`FIGURES`, e.g. ``"table4.apac_std"``.
        value (float | int): the number; accuracies as fractions.
        what (str): what it measures, in a few words, with the protocol.
        quote (str): the passage it stands in, copied exactly from the paper's text file.
        shown (str): how the paper writes it (e.g. ``"91.4"``, ``"~62%"``, ``"451,800"``).
    """

    paper: str
    key: str
    value: float | int
    what: str
    quote: str
    shown: str

    @property
    def cite(self) -> str:
        return PAPERS[self.paper]["cite"]

    def percent(self, digits: int = 1) -> str:
        """An accuracy as the kit prints percentages, e.g. ``"91.4%"``."""
        return f"{100 * self.value:.{digits}f}%"


def _f(paper, key, value, what, quote, shown):
    return PaperFigure(paper, key, value, what, quote, shown)


_C, _R, _T, _D = "cassetta2023", "riad2021", "tax2017", "rothmann2018"

# --- Cassetta 2023: Tables 2-4 and the training settings ---------------------------------------
# Table 2's "P" (pretrained) column is lost in the text extraction: it prints six rows, and a
# time (seconds) on the first three only. The text says pre-training improved the validation
# accuracy of every model; the last three rows have the higher validation accuracies, so the
# kit reads rows 1-3 as "from scratch" and rows 4-6 as "ImageNet pre-trained".
CASSETTA_TABLE2: list[dict] = [
    {"model": "VGG19", "pretrained": False, "train_acc": 0.96, "val_acc": 0.78, "time_s": 230,
     "quote": "VGG19\t\t0.96\t0.78\t230"},
    {"model": "ResNet50", "pretrained": False, "train_acc": 0.94, "val_acc": 0.72, "time_s": 175,
     "quote": "ResNet50\t\t0.94\t0.72\t175"},
    {"model": "MobileNetV2", "pretrained": False, "train_acc": 0.94, "val_acc": 0.63, "time_s": 105,
     "quote": "MobNetv2\t\t0.94\t0.63\t105"},
    {"model": "VGG19", "pretrained": True, "train_acc": 0.97, "val_acc": 0.88, "time_s": None,
     "quote": "VGG19\t\t0.97\t0.88\t"},
    {"model": "ResNet50", "pretrained": True, "train_acc": 0.97, "val_acc": 0.83, "time_s": None,
     "quote": "ResNet50\t\t0.97\t0.83\t"},
    {"model": "MobileNetV2", "pretrained": True, "train_acc": 0.95, "val_acc": 0.87, "time_s": None,
     "quote": "MobNetv2\t\t<b>0.95</b>\t<b>0.87</b>"},
]
# Table 3: APAC's five front-end modes (train and validation accuracy; a time for std only).
CASSETTA_TABLE3: list[dict] = [
    {"mode": "std", "paper_mode": "Standard (std)", "train_acc": 0.91, "val_acc": 0.92, "time_s": 102,
     "quote": "Standard (std)\t<b>0.91</b>\t<b>0.92</b>\t102"},
    {"mode": "mel", "paper_mode": "Mel", "train_acc": 0.89, "val_acc": 0.91, "time_s": None,
     "quote": "Mel\t0.89\t0.91"},
    {"mode": "stft", "paper_mode": "STFT", "train_acc": 0.88, "val_acc": 0.88, "time_s": None,
     "quote": "STFT\t0.88\t0.88"},
    {"mode": "mel+stft", "paper_mode": "Mel + STFT", "train_acc": 0.89, "val_acc": 0.90, "time_s": None,
     "quote": "Mel + STFT\t0.89\t0.9"},
    {"mode": "mel+stft+fsdd", "paper_mode": "Mel + STFT (Pretrain)", "train_acc": 0.90, "val_acc": 0.91,
     "time_s": None, "quote": "Mel + STFT (Pretrain)\t<b>0.9</b>\t<b>0.91</b>"},
]
# Table 4: test accuracy (percent in the paper) of the models it took to the test set.
CASSETTA_TABLE4: list[dict] = [
    {"model": "APAC (std)", "mode": "std", "test_acc": 0.914, "quote": "APAC (std)\t91.4"},
    {"model": "APAC (pretrain)", "mode": "mel+stft+fsdd", "test_acc": 0.90, "quote": "APAC (pretrain)\t90"},
    {"model": "MobileNetV2", "mode": "std", "test_acc": 0.847, "quote": "MobileNetV2\t84.7"},
]

_FIGURES: list[PaperFigure] = []
for row in CASSETTA_TABLE2:
    tag = f"table2.{row['model'].lower()}{'_pretrained' if row['pretrained'] else ''}"
    _FIGURES.append(_f(_C, f"{tag}.train_acc", row["train_acc"],
                       f"{row['model']}{' (ImageNet pre-trained)' if row['pretrained'] else ''}, train accuracy, "
                       "Speech Commands v2", row["quote"], str(row["train_acc"])))
    _FIGURES.append(_f(_C, f"{tag}.val_acc", row["val_acc"],
                       f"{row['model']}{' (ImageNet pre-trained)' if row['pretrained'] else ''}, validation accuracy, "
                       "Speech Commands v2", row["quote"], str(row["val_acc"])))
for row in CASSETTA_TABLE3:
    for split in ("train", "val"):
        v = row[f"{split}_acc"]
        _FIGURES.append(_f(_C, f"table3.{row['mode']}.{split}_acc", v,
                           f"APAC, mode {row['paper_mode']}, {'train' if split == 'train' else 'validation'} accuracy, "
                           "Speech Commands v2", row["quote"], f"{v:g}"))
for row in CASSETTA_TABLE4:
    _FIGURES.append(_f(_C, f"table4.{row['model'].lower().replace(' ', '_').replace('(', '').replace(')', '')}",
                       row["test_acc"], f"{row['model']}, test accuracy, Speech Commands v2", row["quote"],
                       f"{100 * row['test_acc']:g}"))
_FIGURES += [
    _f(_C, "settings.lr_scratch", 1e-3, "learning rate, models trained from scratch (Adam)",
       "All the tests have been carried out with Adam as optimizer, learning rate equal to  $1e^{-3}$", "1e-3"),
    _f(_C, "settings.weight_decay", 1e-3, "weight decay (Adam)",
       "a value for the weight decay equal to  $1e^{-3}$  for 80 epochs", "1e-3"),
    _f(_C, "settings.epochs_scratch", 80, "epochs, models trained from scratch",
       "for 80 epochs for the models without pretraining", "80"),
    _f(_C, "settings.lr_pretrained", 1e-4, "learning rate, ImageNet pre-trained models",
       "with a lower learning rate ( $1e^{-4}$ )", "1e-4"),
    _f(_C, "settings.epochs_pretrained", 30, "epochs, ImageNet pre-trained models",
       "a lower number of epochs (30)", "30"),
    _f(_C, "settings.n_fft", 2048, "FFT size (samples at 16 kHz)", "2048 as n\\_fft", "2048"),
    _f(_C, "settings.n_mels", 128, "mel bands", "128 as n\\_mels for the melspectrogram", "128"),
    _f(_C, "settings.n_mfcc", 64, "MFCCs", "64 for the MFCC", "64"),
    _f(_C, "settings.hop_length", 512, "hop (samples at 16 kHz)", "512 as hop\\_length", "512"),
    _f(_C, "speechcommands.train", 84843, "Speech Commands v2 training clips", "The train set is made up of 84843 samples",
       "84843"),
    _f(_C, "speechcommands.validation", 9981, "Speech Commands v2 validation clips", "the validation has 9981 samples",
       "9981"),
    _f(_C, "speechcommands.test", 11005, "Speech Commands v2 test clips", "the test set has 11005 samples", "11005"),
    _f(_C, "speechcommands.classes", 35, "Speech Commands v2 classes", "composed of 35 classes", "35"),
    _f(_C, "fsdd.speakers", 6, "FSDD speakers", "currently involves 6 speakers", "6"),
    _f(_C, "fsdd.recordings", 3000, "FSDD recordings", "3,000 recordings (50 of each digit per speaker)", "3,000"),
    _f(_C, "speedup", 2, "training/inference time reduction from separable convolutions and inverted residuals",
       "gaining a reduction on the training/inference time of 2x", "2x"),
    _f(_C, "a1.pyramidal", 0.85, "share of pyramidal cells in human A1", "85% of A1", "85%"),
    _f(_C, "a1.stellate", 0.15, "share of stellate cells in human A1", "the remaining 15% are stellate cells", "15%"),
]

# --- Riad et al. 2021 (slides) ------------------------------------------------------------------
_FIGURES += [
    _f(_R, "gabor.parameters", 4, "learnable numbers per Gabor STRF filter", "4 params instead of 111\\*9", "4"),
    _f(_R, "gabor.free_kernel", 111 * 9, "numbers of the free kernel the slides compare with (111 x 9)",
       "4 params instead of 111\\*9", "111*9"),
]

# The slides' "Engineering results" (their only statement on accuracy): no number, one verdict per
# task. The text extraction lists the four tasks, then the four verdicts; the kit pairs them in
# that order. Each string is copied exactly from the text.
RIAD_ENGINEERING_RESULTS: list[dict] = [
    {"task": "Voice Activity Detection", "verdict": "State-of-the-art on two datasets"},
    {"task": "Speaker Identification", "verdict": "Behind topline, above baseline"},
    {"task": "Bird Call type classification", "verdict": "Behind topline, above baseline"},
    {"task": "Audio scene classification", "verdict": "Close to topline"},
]

# --- Rothmann 2018 --------------------------------------------------------------------------------
_FIGURES += [
    _f(_D, "listener.timesteps", 8, "listener input: time steps of a dilated buffer", "(None, 8, 100)", "8"),
    _f(_D, "listener.filters", 100, "listener input: gammatone filters per step", "(None, 8, 100)", "100"),
    _f(_D, "listener.lstm1", 30200, "parameters of the first LSTM (50 units)", "lstm_33 (LSTM)\t(None, 8, 50)\t30200",
       "30200"),
    _f(_D, "listener.lstm2", 301000, "parameters of the second LSTM (250 units)",
       "lstm_34 (LSTM)\t(None, 250)\t301000", "301000"),
    _f(_D, "listener.lstm3", 60200, "parameters of the third LSTM (50 units)", "lstm_35 (LSTM)\t(None, 8, 50)\t60200",
       "60200"),
    _f(_D, "listener.lstm4", 60400, "parameters of the fourth LSTM (100 units)",
       "lstm_36 (LSTM)\t(None, 8, 100)\t60400", "60400"),
    _f(_D, "listener.parameters", 451800, "listener parameters (Keras, one bias per gate)", "Total params: 451,800",
       "451,800"),
    _f(_D, "listener.epochs", 50, "listener training epochs (MSE, Adagrad)",
       "*mean squared error* and *Adagrad* optimization for 50 epochs", "50"),
    _f(_D, "listener.accuracy", 0.42, "listener 'reconstruction accuracy' (Keras's acc metric on a regression)",
       "arriving at a reconstruction accuracy of 42%", "42%"),
    _f(_D, "listener.compression", 3.2, "compression of the input (8 x 100 values into 250)",
       "compressing the input by a factor of 3.2", "3.2"),
    _f(_D, "listener.data_hours", 3, "hours of UrbanSound8K audio the listener was trained on",
       "~3 hours of audio from the UrbanSound8K dataset were used", "~3 hours"),
    _f(_D, "buffer.capacity", 200, "buffer elements for 1 s at 5 ms per step",
       "a buffer with a capacity of 200 elements are needed", "200"),
    _f(_D, "echoic.massaro_ms", 250, "echoic memory duration argued by Massaro (ms)", "D. Massaro has argued for ~250 ms",
       "~250 ms"),
    _f(_D, "echoic.treisman_s", 4, "echoic memory duration argued by Treisman (s)", "A. Treisman argued for ~4 seconds",
       "~4 seconds"),
]

# --- Tax et al. 2017 ------------------------------------------------------------------------------
_FIGURES += [
    _f(_T, "piczak.deltas", 0.62, "PiczakCNN with deltas, ESC-50 test accuracy, majority voting, mean of 5 folds",
       "Using majority voting the PiczakCNN model achieves a  $\\sim 62\\%$  accuracy", "~62%"),
    _f(_T, "piczak.no_deltas", 0.53, "PiczakCNN without deltas, ESC-50 test accuracy, majority voting, mean of 5 folds",
       "which is  $\\sim 53\\%$  on the test set using majority voting", "~53%"),
    _f(_T, "mst.sample_rate", 22050, "MSTmodel input rate (Hz)", "re-sampled at 22050Hz", "22050"),
    _f(_T, "mst.window", 1024, "target mel window (samples)", "window size = 1024", "1024"),
    _f(_T, "mst.hop", 512, "target mel hop (samples)", "hop size = 512", "512"),
    _f(_T, "mst.mel_bands", 60, "target mel bands", "mel bands = 60", "60"),
    _f(_T, "mst.lr", 3e-4, "MSTmodel learning rate (Adam, constant)", "constant learning rate ( $3e^{-4}$ )", "3e-4"),
    _f(_T, "mst.batch", 100, "MSTmodel batch size", "a batch size of 100", "100"),
    _f(_T, "segments.frames", 101, "frames per segment (50% overlap)", "segments of 101 frames with 50% overlap", "101"),
    _f(_T, "segments.overlap", 0.5, "overlap between consecutive segments", "segments of 101 frames with 50% overlap",
       "50%"),
    _f(_T, "piczak.variations", 4, "time/pitch-shifted variations of each training clip",
       "making four variations of each ESC-50 clip using time-/pitch-shifting", "four"),
    _f(_T, "classifier.lr", 5e-3, "classifier learning rate (SGD, Nesterov momentum 0.9)",
       "a learning rate of  $5e^{-3}$", "5e-3"),
    _f(_T, "classifier.batch", 500, "classifier batch size", "a batch size of 500", "500"),
    _f(_T, "classifier.epochs", 200, "classifier epochs", "we train the models for 200 epochs", "200"),
    _f(_T, "classifier.dropout_keep", 0.5, "dropout keep probability in the MST layers of configuration (b)",
       "keep probability = 0.5", "0.5"),
    _f(_T, "esc50.clips", 2000, "ESC-50 clips (5 s, 50 classes, 5 folds)", "contains 2000 5-second long audio clips",
       "2000"),
]

FIGURES: dict[str, PaperFigure] = {f"{fig.paper}.{fig.key}": fig for fig in _FIGURES}


def figure(key: str) -> PaperFigure:
    """One figure by its full key, ``"<paper>.<key>"``.

    >>> figure("cassetta2023.table4.apac_std").percent()
    '91.4%'
    >>> figure("tax2017.piczak.no_deltas").shown
    '~53%'
    """
    try:
        return FIGURES[key]
    except KeyError:
        close = sorted(k for k in FIGURES if k.split(".")[0] == key.split(".")[0])[:6]
        raise KeyError(f"no paper figure {key!r}; e.g. {close or sorted(FIGURES)[:6]}") from None


def figures_of(paper: str) -> list[PaperFigure]:
    """Every figure of one paper, in the order above.

    >>> [f.key for f in figures_of("riad2021")]
    ['gabor.parameters', 'gabor.free_kernel']
    """
    if paper not in PAPERS:
        raise KeyError(f"unknown paper {paper!r}; choose one of {sorted(PAPERS)}")
    return [f for f in FIGURES.values() if f.paper == paper]


def paper_percentages() -> set[str]:
    """Every accuracy or share of the papers as the kit may print it in prose: ``"91.4%"``,
    ``"92%"``, ``"62%"``... (whole numbers also without the decimal).

    >>> {"91.4%", "84.7%", "92%", "53%", "42%"} <= paper_percentages()
    True
    """
    out = set()
    for fig in FIGURES.values():
        share = fig.key.startswith(("table", "a1.")) or "acc" in fig.key or fig.shown.endswith("%")
        if isinstance(fig.value, float) and 0 < fig.value < 1 and share:
            pct = 100 * fig.value
            out.add(f"{pct:.1f}%")
            if abs(pct - round(pct)) < 1e-9:
                out.add(f"{round(pct)}%")
    return out
