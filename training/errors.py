"""Named errors of the training tools; each message tells the operator what to do next."""

from __future__ import annotations


class TrainingToolError(Exception):
    """Base of every error the training tools raise on purpose."""


class DatasetError(TrainingToolError):
    """The input data cannot be converted."""


class ChecksumMismatchError(DatasetError):
    """The archive's md5 is not the published one."""


class CorruptArchiveError(DatasetError):
    """The archive cannot be read as a gzip tar of pickles."""


class MissingMemberError(DatasetError):
    """The archive lacks a file or a key the conversion needs."""


class EmptyClassError(DatasetError):
    """A split holds no image of a class."""


class UnexpectedClassError(DatasetError):
    """An image folder holds a class folder that is not a known class."""


class CorruptImageError(DatasetError):
    """An image file in an image folder cannot be decoded."""


class DuplicateImageError(DatasetError):
    """Two images of one split and class would be written to the same path."""


class CollidingTestKeyError(DatasetError):
    """Two test images of different classes have one file name, so one test/<file> key."""


class DataUnavailableError(DatasetError):
    """No data was given and the official archive cannot be downloaded."""


class InvalidHyperparameterError(TrainingToolError):
    """A hyperparameter is missing, malformed or inconsistent with the data."""


class ConfigError(TrainingToolError):
    """A committed configuration file is missing or malformed."""


class TerraformOutputError(TrainingToolError):
    """A Terraform output the tool needs cannot be read."""


class UnknownRegionError(TrainingToolError):
    """No built-in algorithm image is known for the region."""


class TrainingJobFailedError(TrainingToolError):
    """The training job ended Failed or Stopped."""


class TrainerInputError(TrainingToolError):
    """The local trainer's input channels or hyperparameters are unusable."""


class UndecodableImageError(TrainingToolError):
    """An inference request body is not a decodable PNG or JPEG image."""


class ModelLoadError(TrainingToolError):
    """A model directory lacks the files the inference code needs."""
