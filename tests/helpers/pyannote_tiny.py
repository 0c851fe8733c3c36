"""Build a tiny, randomly initialised pyannote.audio 4 diarization pipeline on disk.

No pretrained weights exist on this machine, so the test builds its own: a small PyanNet
segmentation model (powerset, 3 local speakers, 2 at once), a small x-vector
embedding model, a random PLDA, and a ``config.yaml`` laid out like the published community-1 pipeline
(``$model/segmentation``, ``$model/embedding``, ``$model/plda``). Accuracy is meaningless; it
proves the loading and the wiring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

CONFIG = {
    "dependencies": {"pyannote.audio": "4.0.0"},
    "pipeline": {
        "name": "pyannote.audio.pipelines.SpeakerDiarization",
        "params": {
            "segmentation": "$model/segmentation",
            "embedding": "$model/embedding",
            "plda": "$model/plda",
            "clustering": "VBxClustering",
            "segmentation_step": 0.5,
            "segmentation_batch_size": 8,
            "embedding_batch_size": 8,
        },
    },
    "params": {
        "segmentation": {"min_duration_off": 0.0},
        "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
    },
}


def _save(model: torch.nn.Module, path: Path) -> None:
    """Save a pyannote Model as Lightning would (hyper-parameters + pyannote.audio metadata)."""
    import lightning

    checkpoint: dict = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)


def _segmentation_model() -> torch.nn.Module:
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    model = PyanNet(
        sincnet={"stride": 10},
        lstm={"hidden_size": 16, "num_layers": 1, "bidirectional": True, "monolithic": True},
        linear={"hidden_size": 16, "num_layers": 1},
    )
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=5.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.build()
    return model


def _embedding_model() -> torch.nn.Module:
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorMFCC

    model = XVectorMFCC(mfcc={"n_mfcc": 20}, dimension=32)
    model.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    return model


def _random_plda(folder: Path, dimension: int, lda_dimension: int = 16) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    lda = rng.standard_normal((dimension, lda_dimension))
    np.savez(
        folder / "xvec_transform.npz",
        mean1=np.zeros(dimension),
        mean2=np.zeros(lda_dimension),
        lda=lda,
    )
    tr = np.linalg.qr(rng.standard_normal((lda_dimension, lda_dimension)))[0]
    psi = np.linspace(2.0, 0.5, lda_dimension)
    np.savez(folder / "plda.npz", mu=np.zeros(lda_dimension), tr=tr, psi=psi)


def build_tiny_pipeline(directory: Path) -> Path:
    """Write segmentation/, embedding/, plda/ and config.yaml under ``directory``."""
    torch.manual_seed(0)
    _save(_segmentation_model(), directory / "segmentation" / "pytorch_model.bin")
    embedding = _embedding_model()
    _save(embedding, directory / "embedding" / "pytorch_model.bin")
    _random_plda(directory / "plda", embedding.dimension)
    (directory / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return directory
