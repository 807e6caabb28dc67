"""Running one study run across GPUs and nodes, on the engines that already do it.

`fsdp2.py` shards the encoder and heads with torch's FSDP2 (`fully_shard`) under Lightning's
`ModelParallelStrategy`; DeepSpeed ZeRO runs through Lightning's `DeepSpeedStrategy` with the
configs in `configs/scale/` (`deepspeed.py` makes `from_pretrained` load straight into ZeRO-3
partitions); `batch_size.py` derives gradient accumulation from the papers' effective batch size
and the world size; `architectures.py` and `plan.py` count parameters and per-GPU memory for
`python -m lightning_xfer plan`.
"""
