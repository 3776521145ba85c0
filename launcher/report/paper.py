"""The paper's published numbers, each with the sentence it came from.

Rachmanto, Nabhaan, Setyanto, "Deep Learning Model Compression Techniques Performance on Edge
Devices", MATRIK 23(3):569-582, 2024 (CC BY-SA 4.0). Its Figures 2-5 are not available as
data; these are the values its text quotes from them (and its Table 2). The report shows each
beside our value for the same cell, with the ratio.

Reading rules, so a reader can check every entry against its sentence:
- "X% less accurate" / "X% accuracy drop|loss" is a drop in percentage points of top-1.
- "X% faster" is a latency speed-up: (base - method) / base; "slower" is negative.
- "Nx smaller" / "Nx size reduction" is base size / method size; sizes in MB are 10^6 bytes.
- ``model=None`` is the paper's mean over its six models; ``device=None`` means the text does
  not say on which device (sizes and accuracies do not depend on it).
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
    "gzip_size_reduction_x": "gzip size reduction vs base (x)",
    "compression_s": "compression time (s)",
}
# Which paper device a profile stands for: the Jetsons themselves, or their x86 twins.
PAPER_DEVICE_OF_PROFILE: dict[str, PaperDevice] = {
    "nano": "nano", "x86-tf2.7": "nano", "xavier": "xavier", "x86-tf2.12": "xavier",
    "xavier-emulated": "xavier"}
PAPER_DEVICE_NAMES = {"nano": "Jetson Nano", "xavier": "Jetson Xavier NX"}


@dataclass(frozen=True)
class PaperValue:
    source: str  # "Figure 2" ... "Figure 5", "Table 2"
    metric: str  # a key of METRICS
    method: str  # base, fp16, int8, pruneNN, distill, scratch
    model: str | None  # None: the paper's mean over its models
    device: PaperDevice | None
    value: float
    sentence: str  # verbatim from the paper's text (PDF extraction, hyphens kept)
    note: str = ""


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
S_TABLE2 = "Table 2: model sizes (MB) of the base models, 224 x 224 input."

MOB_S, MOB_L = "MobileNetV3Small", "MobileNetV3Large"
EFF_B1, EFF_B3 = "EfficientNetB1", "EfficientNetB3"
D169, D201 = "DenseNet169", "DenseNet201"


def _v(source: str, metric: str, method: str, model: str | None, device: PaperDevice | None,
       value: float, sentence: str, note: str = "") -> PaperValue:
    return PaperValue(source, metric, method, model, device, value, sentence, note)


PAPER_VALUES: tuple[PaperValue, ...] = (
    # Figure 2: accuracy
    _v("Figure 2", "accuracy_drop_pts", "fp16", None, None, 0.003, S_FP16_ACC),
    _v("Figure 2", "accuracy_drop_pts", "int8", MOB_S, None, 20.93, S_INT8_MOB),
    _v("Figure 2", "accuracy_drop_pts", "int8", MOB_L, None, 29.16, S_INT8_MOB,
       "read as a drop: the paragraph names Mob-S and Mob-L as the largest drops"),
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
    _v("Figure 3", "latency_speedup_pct", "fp16", MOB_S, "xavier", 45.45, S_XAVIER_Q),
    _v("Figure 3", "latency_speedup_pct", "int8", MOB_S, "xavier", -9.5, S_XAVIER_Q),
    _v("Figure 3", "latency_ms", "prune75", MOB_S, "nano", 38.3, S_NANO_P75),
    _v("Figure 3", "latency_ms", "prune25", EFF_B1, "nano", 83.7, S_EFFB1_P25,
       "the device is the paragraph's: it opens with 'On Nano'"),
    _v("Figure 3", "latency_ms", "base", EFF_B3, "nano", 113.9, S_EFFB3_NANO,
       "Nano: the next sentence gives Xavier's Eff-B3 base as 47.9 ms"),
    _v("Figure 3", "latency_ms", "base", EFF_B3, "xavier", 47.9, S_EFFB3_XAVIER),
    _v("Figure 3", "latency_ms", "base", MOB_S, "nano", 39.34, S_MOBS_LAT),
    _v("Figure 3", "latency_ms", "base", MOB_S, "xavier", 17.91, S_MOBS_LAT),
    _v("Figure 3", "latency_ms", "base", D201, "nano", 177.3, S_D201_LAT),
    _v("Figure 3", "latency_ms", "base", D201, "xavier", 83.2, S_D201_LAT),
    _v("Figure 3", "latency_speedup_pct", "distill", D201, "nano", 77.67, S_D201_KD),
    _v("Figure 3", "latency_speedup_pct", "distill", D201, "xavier", 78.67, S_D201_KD),
    _v("Figure 3", "latency_speedup_pct", "distill", D169, "nano", 69.9, S_D169_KD,
       "devices not named: read in the order Nano, Xavier of the sentences around it"),
    _v("Figure 3", "latency_speedup_pct", "distill", D169, "xavier", 72.87, S_D169_KD,
       "devices not named: read in the order Nano, Xavier of the sentences around it"),
    # Figure 4: size
    _v("Figure 4", "size_reduction_x", "fp16", None, None, 2.75, S_FP16_SIZE),
    _v("Figure 4", "size_mb", "fp16", MOB_S, None, 2.0, S_MOB_FP16),
    _v("Figure 4", "size_mb", "fp16", MOB_L, None, 6.0, S_MOB_FP16),
    _v("Figure 4", "size_reduction_x", "int8", None, None, 4.72, S_INT8_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", MOB_S, None, 5.77, S_INT8_MOB_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", MOB_L, None, 4.86, S_INT8_MOB_SIZE),
    _v("Figure 4", "size_reduction_x", "int8", EFF_B3, None, 3.92, S_INT8_EFFB3),
    _v("Figure 4", "size_mb", "int8", EFF_B3, None, 13.0, S_INT8_EFFB3),
    _v("Figure 4", "gzip_size_reduction_x", "prune25", None, None, 1.68, S_GZIP),
    _v("Figure 4", "gzip_size_reduction_x", "prune50", None, None, 2.2, S_GZIP),
    _v("Figure 4", "gzip_size_reduction_x", "prune75", None, None, 3.36, S_GZIP),
    _v("Figure 4", "size_reduction_x", "distill", MOB_L, None, 2.27, S_KD_MOBL),
    _v("Figure 4", "size_reduction_x", "distill", D201, None, 11.4, S_KD_D201),
    # Table 2: base model sizes
    _v("Table 2", "size_mb", "base", MOB_S, None, 7.5, S_TABLE2),
    _v("Table 2", "size_mb", "base", MOB_L, None, 17.0, S_TABLE2),
    _v("Table 2", "size_mb", "base", EFF_B1, None, 34.0, S_TABLE2),
    _v("Table 2", "size_mb", "base", EFF_B3, None, 51.0, S_TABLE2),
    _v("Table 2", "size_mb", "base", D169, None, 57.0, S_TABLE2),
    _v("Table 2", "size_mb", "base", D201, None, 80.0, S_TABLE2),
    # Figure 5: compression time
    _v("Figure 5", "compression_s", "fp16", MOB_S, None, 121.74, S_TIME_MOBS,
       "the device is not named"),
    _v("Figure 5", "compression_s", "prune25", MOB_S, None, 516.32, S_TIME_MOBS,
       "the device is not named"),
)

# Section 3.5: "we ranked distillation as the best method ... PTQ is second ... Unstructured
# pruning in TensorFlow is not recommended": its criteria are the four metrics above.
PAPER_FAMILY_RANK = {"distillation": 1, "quantization": 2, "pruning": 3}
