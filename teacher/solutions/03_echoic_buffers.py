"""Reference solutions for notebook 03 (echoic buffers); tests run them through the checks."""

from __future__ import annotations

import math

import torch

from apac_lab.frontends import dilate


def solve_unwrap():
    def unwrap(storage, write, count):
        if count < len(storage):
            return list(storage[:count])
        return list(storage[write:]) + list(storage[:write])

    return unwrap


def solve_steps_for_4s():
    frames = 4.0 / 0.010  # 400 frames of 10 ms
    return math.ceil(math.log2(frames + 1))  # 2^k - 1 >= 400  ->  k = 9 (5.11 s)


def solve_mean_view():
    x = torch.arange(1.0, 11.0).view(10, 1)
    return dilate(x, n_steps=3, base=2, mode="mean")[-1, :, 0].tolist()
