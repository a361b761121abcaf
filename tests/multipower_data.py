"""The nine schedules of Luo et al.'s multi-power-law runs, shared by the curve tests.

Specs rebuild the authors' per-step LR (``data/multipower_law/SOURCE.md``: peak 3e-4, linear
warm-up over 2,160 steps, final 3e-5); TRAIN is the authors' training split, TEST the rest.
"""

from __future__ import annotations

SPECS = {
    "constant_24000": "constant:peak=3e-4,total=24000,warmup=2160",
    "constant_72000": "constant:peak=3e-4,total=72000,warmup=2160",
    "cosine_24000": "cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5",
    "cosine_72000": "cosine:peak=3e-4,total=72000,warmup=2160,final=3e-5",
    "wsd_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5,shape=exp",
    "wsdld_20000_24000": "wsd:peak=3e-4,total=24000,warmup=2160,decay=4000,final=3e-5",
    "wsdcon_3": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@3e-5",
    "wsdcon_9": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@9e-5",
    "wsdcon_18": "multistage:peak=3e-4,total=16000,warmup=2160,stages=8000@1.8e-4",
}
TRAIN = ["cosine_24000", "constant_24000", "wsdcon_9"]
TEST = [name for name in SPECS if name not in TRAIN]
TRAIN_SPECS = {name: SPECS[name] for name in TRAIN}
