"""Distillation under torchrun (2 CPU processes, gloo) for the DDP test.

Run as ``python -m torch.distributed.run --nproc_per_node=2
tests/ddp_distill_script.py OUT_DIR``. The student is wrapped in a model that
returns logits only, so its IUSP tap is a forward hook (``crnn.rnn``) on the
DDP-wrapped model. Rank 0 writes ``OUT_DIR/result.txt``.

Authors
 * speechbrain-iusp developers 2026
"""

import os
import sys

import torch
from distill_toy import (
    make_dataset,
    make_hparams,
    make_student,
    make_teacher,
)

import speechbrain as sb
from speechbrain.utils.distributed import ddp_init_group, if_main_process

from speechbrain_iusp.distill import DistillationBrain


class LogitsOnly(torch.nn.Module):
    """A student that returns logits only (taps through hooks)."""

    def __init__(self, crnn):
        super().__init__()
        self.crnn = crnn

    def forward(self, x, lengths=None):
        """Clip logits."""
        return self.crnn(x, lengths)


def main(out_dir):
    """Trains 2 epochs of IUSP + KD distillation and checks the teacher."""
    torch.set_num_threads(1)
    run_opts = {
        "device": "cpu",
        "distributed_backend": "gloo",
        "noprogressbar": True,
    }
    ddp_init_group(run_opts)
    teacher = make_teacher()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    model = LogitsOnly(make_student())
    start = {k: v.clone() for k, v in model.state_dict().items()}
    terms = [
        {
            "name": "iusp",
            "loss": "iusp",
            "weight": 5.0,
            "teacher_tap": "rnn",
            "student_tap": "crnn.rnn",
        },
        {"name": "kd", "loss": "kd"},
    ]
    hparams = make_hparams(
        out_dir, model, epochs=2, teacher=teacher, distill_terms=terms
    )
    brain = DistillationBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        make_dataset(16, seed=0),
        make_dataset(8, seed=1, prefix="val"),
        train_loader_kwargs={"batch_size": 4, "shuffle": True},
        valid_loader_kwargs={"batch_size": 4},
    )
    unchanged = all(
        torch.equal(v, before[k]) for k, v in teacher.state_dict().items()
    ) and all(p.grad is None for p in teacher.parameters())
    trained = any(
        not torch.equal(v, start[k]) for k, v in model.state_dict().items()
    )
    ddp = torch.nn.parallel.DistributedDataParallel
    assert isinstance(brain.modules["model"], ddp)
    assert not isinstance(brain.teacher, ddp)
    sb.utils.distributed.ddp_barrier()
    if if_main_process():
        with open(os.path.join(out_dir, "result.txt"), "w") as f:
            f.write(
                f"{'teacher_unchanged' if unchanged else 'teacher_changed'} "
                f"{'trained' if trained else 'not_trained'} "
                f"{torch.distributed.get_world_size()}\n"
            )
    sb.utils.distributed.ddp_barrier()
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
