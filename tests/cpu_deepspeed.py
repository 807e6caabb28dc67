"""Lightning's DeepSpeedStrategy on CPU processes (gloo), for the tests only.

Lightning refuses a CPU accelerator for DeepSpeed ("only supported on CUDA GPUs"); DeepSpeed itself
runs ZeRO on CPU with `DS_ACCELERATOR=cpu`. This subclass skips Lightning's CUDA checks and gives
each process a CPU device with its rank as index (DeepSpeed reads the index as its device rank).
"""

import torch
from lightning_fabric.utilities.seed import reset_seed
from pytorch_lightning.strategies import DDPStrategy, DeepSpeedStrategy


class CPUDeepSpeedStrategy(DeepSpeedStrategy):
    def setup_environment(self) -> None:
        DDPStrategy.setup_environment(self)

    def setup_distributed(self) -> None:
        reset_seed()
        self.set_world_ranks()
        self._init_deepspeed_distributed()

    @property
    def root_device(self) -> torch.device:
        return torch.device("cpu", self.local_rank)
