"""The paper's published numbers, each with the sentence it came from.

Rachmanto, Nabhaan, Setyanto, "Deep Learning Model Compression Techniques Performance on Edge
Devices", MATRIK 23(3):569-582, 2024 (CC BY-SA 4.0). Its Figures 2-5 are not available as
data; these are the values its text quotes from them (and its Table 2). The report shows each
beside our value for the same cell, with the ratio where the two were measured alike (see
``comparable`` in launcher/report/tables.py: a latency or a compression time measured on
another backend than the paper's gets no ratio).

Every ``sentence`` is the paper's own words as the PDF extraction gives them (hyphens and
dropped apostrophes kept; a unit test finds each in the text), Table 2's entries are its rows.

Reading rules, so a reader can check every entry against its sentence:
- "X% less accurate" / "X% accuracy drop|loss" is a drop in percentage points of top-1.
- "X% faster" is a latency speed-up: (base - method) / base; "slower" is negative.
- "Nx smaller" / "Nx size reduction" is base size / method size; sizes in MB are 10^6 bytes.
- ``model=None`` is the paper's mean over its six models; ``device=None`` means the text does
  not say on which device (sizes and accuracies do not depend on it).
- Compression times are held against our total (load + compression + save), not against the
  compression proper: the paper does not say what its time includes, and its benchmarkers
  (Section 2.5) load the model, compress it and save it. Results without the total (older
  ones) are not compared.
- ``ambiguity`` flags a reading the text does not settle; the report prints the flag beside the
  value. Where the other reading is a number too (Mob-L's INT8 "29.16% accuracy", the gzip
  reductions), both readings are listed, each flagged.
Left out: ranges ("6.44% - 7.55%"), figures whose cell the text leaves ambiguous ("other
sparsity levels are 38.4 ms and 38.5 ms"), and the Discussion's student latencies (49 ms,
19.5 ms) and D201 size (83.2 MB), which contradict Section 3.2 (39.34 ms, 17.91 ms) and
Table 2 (80 MB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PaperDevice = Literal["nano", "xavier"]
METRICS = {
    "accuracy_pct": "top-1 accuracy (%)",
    "accuracy_drop_pts": "accuracy drop vs base (points)",
    "latency_ms": "latency (ms per image)",
    "latency_speedup_pct": "latency speed-up vs base (%)",
    "size_mb": "size (MB)",
    "size_reduction_x": "size reduction vs base (x)",
    "gzip_size_reduction_x": "gzip size reduction vs base gzip (x)",
    "saved_model_gzip_reduction_x": "size reduction, base SavedModel / method gzip (x)",
    "compression_s": "compression time, load + compression + save (s)",
    "compression_proper_s": "compression time, the compression alone (s)",
}
# Metrics that depend on the hardware and backend that ran them: beside the paper's only when
# ours ran on the paper's device with the paper's backends.
DEVICE_DEPENDENT = frozenset({"latency_ms", "latency_speedup_pct", "compression_s",
                              "compression_proper_s"})
# Which paper device a profile stands for: the Jetsons themselves, or their x86 twins.
PAPER_DEVICE_OF_PROFILE: dict[str, PaperDevice] = {
    "nano": "nano", "x86-tf2.7": "nano", "xavier": "xavier", "x86-tf2.12": "xavier",
    "xavier-emulated": "xavier"}
PAPER_DEVICE_NAMES = {"nano": "Jetson Nano", "xavier": "Jetson Xavier NX"}
# The backend the paper's latencies ran on (Section 3.2): SavedModels with TensorFlow on the
# Jetson's GPU, TFLite models on its ARM CPU.
S_GPU = "Base latency is measured on GPU, which is also shown in each graph."
S_TFLITE_CPU = ("This latency increase is because TF Lite can only utilize CPU, unlike the "
                "pruned or dis-tilled models that run on GPU.")
PAPER_BACKENDS = {"base": "tf-gpu", "fp16": "tflite-cpu", "int8": "tflite-cpu",
                  "prune": "tf-gpu", "distill": "tf-gpu", "scratch": "tf-gpu"}


def paper_backend(method: str) -> str | None:
    """The backend the paper ran a method's model on (pruneNN: prune). A chain (prune50+int8)
    is not in the paper: None, so it is never compared with the paper's values."""
    if "+" in method:
        return None
    return PAPER_BACKENDS.get("prune" if method.startswith("prune") else method)


@dataclass(frozen=True)
class PaperValue:
    source: str  # "Figure 2" ... "Figure 5", "Table 2"
    metric: str  # a key of METRICS
    method: str  # base, fp16, int8, pruneNN, distill, scratch
    model: str | None  # None: the paper's mean over its models
    device: PaperDevice | None
    value: float
    sentence: str  # verbatim from the paper's text (PDF extraction, hyphens kept)
    note: str = ""  # how the number was read, where the sentence alone does not say
    ambiguity: str = ""  # set when the text does not settle the reading: why, and the other one


S_FP16_ACC = ("As shown in Figure 2, with only 0.003% accuracy loss on average, FP16 "
              "conversion has the least accuracy drop between all methods.")
S_INT8_MOB = "INT8 Mob-S is 20.93% less accurate, while Mob-L has 29.16% accuracy."
S_P50 = ("Eff-B1 suffers a 13.44% accuracy drop, followed by Mob-L and Mob-S at 20.3% and "
         "39.5% accuracy loss, respectively.")
S_P75_EFF = "Eff-B1 and Eff-B3 fall below 5% accuracy, at only 4.14% and 4.56%."
S_P75_MOB = "Mob-S and Mob-L are slightly better, with 5.41% and 15.4% accuracy."
S_P75_DN = "D169 is only 35.08 accurate, while D201 still manages 60.47% accuracy."
S_SCRATCH = ("The scratch model is 81.36% accurate, making the difference between scratch and "
             "distilled model 2.99%.")
S_XAVIER_Q = ("On Xavier, the FP16 quantized model is 45.45% faster, while the INT8 quantized "
              "model is 9.5% slower than the base.")
S_NANO_P75 = ("On Nano, the inference is the fastest, with 75% sparsity for pruned Mob-S, at "
              "38.3 ms; other sparsity levels are 38.4 ms and 38.5 ms.")
S_EFFB1_P25 = "However, for Eff-B1, pruning with 25% sparsity has the best latency at 83.7 ms."
S_EFFB3_NANO = ("Pruned Eff-B3 models make inferences at the speed of 118.5 ms - 125.1 ms, "
                "whereas the base models inference speed is 113.9 ms.")
S_EFFB3_XAVIER = ("The sparse models infer images at the speed of 34.7 - 34.9 ms, compared to "
                  "47.9 ms if unpruned, resulting in a close to 28% reduction in latency.")
S_MOBS_LAT = ("As such, the distilled model latency is identical to Mob-Ss latency on the "
              "respective devices, 39.34 ms on Nano and 17.91 ms on Xavier.")
S_D201_LAT = ("D201, as the big-gest teacher tested, has 177.3 ms latency on Nano and 83.2 ms "
              "on Xavier.")
S_D201_KD = ("For D201, the latency improvement is even higher, as the student is 77.67% "
             "faster on Nano and 78.67% faster on Xavier.")
S_D169_KD = "The distilled model is faster than D169 by 69.9% and 72.87%."
S_FP16_SIZE = "On aver-age, FP16 managed to reduce the model size by 2.75x."
S_MOB_FP16 = ("Mob-S and Mob-L reap the most benefits; with FP16, their model size is reduced "
              "to 2MB and 6MB, compared to 7.5MB and 17 MB.")
S_INT8_SIZE = "On average, their model size is 4.72x smaller than the base."
S_INT8_MOB_SIZE = ("Mob-S and Mob-L are again the biggest benefactors for this compression, as "
                   "their INT8 models are 5.77x and 4.86x smaller than the original.")
S_INT8_EFFB3 = ("Eff-B3 has the lowest INT8 model reduction rate at only 3.92x, and its model "
                "size decreased from 51MB to 13MB.")
S_GZIP = ("After gzip, the 25% sparse models are 1.68x small-er than the base, 50% and 75% "
          "sparse models are even smaller, their size reduced to be 2.2x and 3.36x smaller.")
S_KD_MOBL = ("Mob-L, the smallest teacher, benefitted the least with only a 2.27x size "
             "reduc-tion.")
S_KD_D201 = "D201 benefitted the most as the largest teacher, with an 11.4x size reduction."
S_TIME_MOBS = ("The gap is more apparent in smaller models such as Mob-S, where FP16 "
               "quantization took 121.74 seconds, 4.24x faster than pruning for 25% sparsity, "
               "which took 516.32 seconds.")
# Table 2, row by row as the extraction gives them ("Input Size", "Model Size (MB)"). The
# caption printed under the table in the extraction, "Pembagian data untuk Training dan
# Testing" ("data split for training and testing"), does not describe it; Section 2.3 calls it
# "The models speci-fications are shown in Table 2."
T2_MOB_S = "MobileNetV3Small (Mob-S) $224 \\times 224$ 7.5"
T2_MOB_L = "MobileNetV3Large $224 \\times 224$ 17"
T2_EFF_B1 = "EfficientNetB1(Eff-B1) $224 \\times 224$ 34"
T2_EFF_B3 = "EfficientNetB3(Eff-B3) $224 \\times 224$ 51"
T2_D169 = "DenseNet169 (D169) $224 \\times 224$ 57"
T2_D201 = "DenseNet201 (D201) $224 \\times 224$ 80"
T2_NOTE = "Table 2's row (input size, model size in MB)"

MOB_S, MOB_L = "MobileNetV3Small", "MobileNetV3Large"
EFF_B1, EFF_B3 = "EfficientNetB1", "EfficientNetB3"
D169, D201 = "DenseNet169", "DenseNet201"


def _v(source: str, metric: str, method: str, model: str | None, device: PaperDevice | None,
       value: float, sentence: str, note: str = "", ambiguity: str = "") -> PaperValue:
    return PaperValue(source, metric, method, model, device, value, sentence, note, ambiguity)


A_MOBL_INT8 = ("the sentence says Mob-L 'has 29.16% accuracy' while the paragraph names Mob-S "
               "and Mob-L as the largest drops: listed both as a drop and as an accuracy")
A_EFFB3_NANO = ("the sentence names no device: Nano by the paragraph's 'On Nano' two sentences "
                "before and because the next sentence gives Xavier's Eff-B3 base as 47.9 ms")
A_D169 = ("the sentence names no device: Nano then Xavier assigned by sentence order, as the "
          "D201 sentence after it orders them")
A_GZIP = ("'smaller than the base' does not say whether the base is gzipped too: listed against "
          "both readings (base gzip / pruned gzip, base SavedModel / pruned gzip)")
A_TIME = ("the sentence names no device, and 4.24x lies in both devices' ranges (2.57x - 5.36x "
          "on Nano, 4.15x - 7.95x on Xavier): shown for either")


PAPER_VALUES: tuple[PaperValue, ...] = (
    # Figure 2: accuracy
    _v("Figure 2", "accuracy_drop_pts", "fp16", None, None, 0.003, S_FP16_ACC),
    _v("Figure 2", "accuracy_drop_pts", "int8", MOB_S, None, 20.93, S_INT8_MOB),
    _v("Figure 2", "accuracy_drop_pts", "int8", MOB_L, None, 29.16, S_INT8_MOB,
       "read as a drop, like Mob-S's before it", A_MOBL_INT8),
    _v("Figure 2", "accuracy_pct", "int8", MOB_L, None, 29.16, S_INT8_MOB,
       "read as the sentence's words: an accuracy", A_MOBL_INT8),
    _v("Figure 2", "accuracy_drop_pts", "prune50", EFF_B1, None, 13.44, S_P50),
    _v("Figure 2", "accuracy_drop_pts", "prune50", MOB_L, None, 20.3, S_P50),
    _v("Figure 2", "accuracy_drop_pts", "prune50", MOB_S, None, 39.5, S_P50),
    _v("Figure 2", "accuracy_pct", "prune75", EFF_B1, None, 4.14, S_P75_EFF),
    _v("Figure 2", "accuracy_pct", "prune75", EFF_B3, None, 4.56, S_P75_EFF),
    _v("Figure 2", "accuracy_pct", "prune75", MOB_S, None, 5.41, S_P75_MOB),
    _v("Figure 2", "accuracy_pct", "prune75", MOB_L, None, 15.4, S_P75_MOB),
    _v("Figure 2", "accuracy_pct", "prune75", D169, None, 35.08, S_P75_DN),
    _v("Figure 2", "accuracy_pct", "prune75", D201, None, 60.47, S_P75_DN),
    _v("Figure 2", "accuracy_pct", "scratch", MOB_S, None, 81.36, S_SCRATCH),
    # Figure 3: latency
    _v("Figure 3", "latency_speedup_pct", "fp16", MOB_S, "xavier", 45.45, S_XAVIER_Q,
       "Mob-S: the sentence before is about quantized Mob-S, the one model not slowed down"),
    _v("Figure 3", "latency_speedup_pct", "int8", MOB_S, "xavier", -9.5, S_XAVIER_Q,
       "Mob-S: the sentence before is about quantized Mob-S, the one model not slowed down"),
    _v("Figure 3", "latency_ms", "prune75", MOB_S, "nano", 38.3, S_NANO_P75),
    _v("Figure 3", "latency_ms", "prune25", EFF_B1, "nano", 83.7, S_EFFB1_P25,
       "the device is the paragraph's: it opens with 'On Nano'"),
    _v("Figure 3", "latency_ms", "base", EFF_B3, "nano", 113.9, S_EFFB3_NANO, "",
       A_EFFB3_NANO),
    _v("Figure 3", "latency_ms", "base", EFF_B3, "xavier", 47.9, S_EFFB3_XAVIER),
    _v("Figure 3", "latency_ms", "base", MOB_S, "nano", 39.34, S_MOBS_LAT),
    _v("Figure 3", "latency_ms", "base", MOB_S, "xavier", 17.91, S_MOBS_LAT),
    _v("Figure 3", "latency_ms", "base", D201, "nano", 177.3, S_D201_LAT),
    _v("Figure 3", "latency_ms", "base", D201, "xavier", 83.2, S_D201_LAT),
    _v("Figure 3", "latency_speedup_pct", "distill", D201, "nano", 77.67, S_D201_KD),
    _v("Figure 3", "latency_speedup_pct", "distill", D201, "xavier", 78.67, S_D201_KD),
    _v("Figure 3", "latency_speedup_pct", "distill", D169, "nano", 69.9, S_D169_KD, "",
       A_D169),
    _v("Figure 3", "latency_speedup_pct", "distill", D169, "xavier", 72.87, S_D169_KD, "",
       A_D169),
    # Figure 4: size
    _v("Figure 4", "size_reduction_x", "fp16", None, None, 2.75, S_FP16_SIZE),
    _v("Figure 4", "size_mb", "fp16", MOB_S, None, 2.0, S_MOB_FP16),
    _v("Figure 4", "size_mb", "fp16", MOB_L, None, 6.0, S_MOB_FP16),
    _v("Figure 4", "size_reduction_x", "int8", None, None, 4.72, S_INT8_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", MOB_S, None, 5.77, S_INT8_MOB_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", MOB_L, None, 4.86, S_INT8_MOB_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", EFF_B3, None, 3.92, S_INT8_EFFB3),
    _v("Figure 4", "size_mb", "int8", EFF_B3, None, 13.0, S_INT8_EFFB3),
    *(_v("Figure 4", metric, f"prune{level}", None, None, value, S_GZIP,
         "the mean over models: 'the 25% sparse models'", A_GZIP)
      for metric in ("gzip_size_reduction_x", "saved_model_gzip_reduction_x")
      for level, value in ((25, 1.68), (50, 2.2), (75, 3.36))),
    _v("Figure 4", "size_reduction_x", "distill", MOB_L, None, 2.27, S_KD_MOBL),
    _v("Figure 4", "size_reduction_x", "distill", D201, None, 11.4, S_KD_D201),
    # Table 2: base model sizes
    _v("Table 2", "size_mb", "base", MOB_S, None, 7.5, T2_MOB_S, T2_NOTE),
    _v("Table 2", "size_mb", "base", MOB_L, None, 17.0, T2_MOB_L, T2_NOTE),
    _v("Table 2", "size_mb", "base", EFF_B1, None, 34.0, T2_EFF_B1, T2_NOTE),
    _v("Table 2", "size_mb", "base", EFF_B3, None, 51.0, T2_EFF_B3, T2_NOTE),
    _v("Table 2", "size_mb", "base", D169, None, 57.0, T2_D169, T2_NOTE),
    _v("Table 2", "size_mb", "base", D201, None, 80.0, T2_D201, T2_NOTE),
    # Figure 5: compression time
    _v("Figure 5", "compression_s", "fp16", MOB_S, None, 121.74, S_TIME_MOBS, "", A_TIME),
    _v("Figure 5", "compression_s", "prune25", MOB_S, None, 516.32, S_TIME_MOBS, "", A_TIME),
)

# Section 3.5: "we ranked distillation as the best method ... PTQ is second ... Unstructured
# pruning in TensorFlow is not recommended": its criteria are the four metrics above.
PAPER_FAMILY_RANK = {"distillation": 1, "quantization": 2, "pruning": 3}
