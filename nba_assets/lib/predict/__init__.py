"""Points prediction systems, walk-forward training and OVER / UNDER recommendations.

Every system takes rows of the ML feature store (one expected player per game day, features
built from games before that day) and returns predicted points per row:

- ``moving_average_v1`` (:mod:`.moving_average`): a weighted blend of recent and season averages
  with small adjustments;
- ``lightgbm_v1`` (:mod:`.lightgbm_model`): a LightGBM regressor retrained walk-forward on a fixed
  cadence; the model serving day D was trained only on player-games before D;
- ``ensemble_v1`` (:mod:`.ensemble`): a blend of the two, its weight learned on graded days before
  D only.

:mod:`.recommendation` is the OVER / UNDER / PASS / NO_LINE rule they share; :mod:`.systems`
names the systems and builds the day's rows of all of them. Callers use this package's names
(``from nba_assets.lib import predict``, then ``predict.moving_average_v1`` and the like),
not the modules'.

How every constant was chosen, and what each measured, is in
``benchmarks/results/model_quality.md``, which ``benchmarks/model_quality.py`` writes:
``--tune`` reruns the validation, on earlier seasons (rolling origin, walk-forward) and never
on the reported 2025-26 days, each part rewriting its own section of the file.
"""

from nba_assets.lib.predict.ensemble import (
    ENSEMBLE_PARAMS,
    EnsembleParams,
    ensemble_v1,
    ensemble_weight,
)
from nba_assets.lib.predict.lightgbm_model import (
    AVAILABILITY_DAYS,
    LIGHTGBM_PARAMS,
    LIGHTGBM_ROUNDS,
    MA_FEATURE,
    MAX_NULL_SHARE,
    MIN_TRAINING_ROWS,
    MODEL_FEATURES,
    RETRAIN_CADENCE,
    SEASON_BREAK_MONTH,
    TRAINING_THREADS,
    TRAINING_WINDOW_DAYS,
    VALIDATION_DAYS,
    Cadence,
    FitKey,
    FitPlan,
    PointsTrainer,
    TrainedModel,
    bins_anchor,
    boundaries_between,
    cadence_boundary,
    held_out_boundary,
    model_features,
    model_inputs,
    next_boundary,
    predict_points,
    train_points_model,
    training_rows,
)
from nba_assets.lib.predict.moving_average import (
    MOVING_AVERAGE_PARAMS,
    MovingAverageParams,
    moving_average_v1,
)
from nba_assets.lib.predict.recommendation import (
    NO_LINE,
    OVER,
    PASS,
    THRESHOLDS,
    UNDER,
    Thresholds,
    confidence,
    recommend,
    recommendation_expr,
)
from nba_assets.lib.predict.systems import (
    BASE_COLUMNS,
    PLAYER_GAME_KEYS,
    SYSTEM_ENSEMBLE,
    SYSTEM_LIGHTGBM,
    SYSTEM_MOVING_AVERAGE,
    SYSTEMS,
    base_predictions,
    graded_history,
    prediction_rows,
    unmatched_lines,
)

__all__ = [
    "AVAILABILITY_DAYS",
    "BASE_COLUMNS",
    "ENSEMBLE_PARAMS",
    "LIGHTGBM_PARAMS",
    "LIGHTGBM_ROUNDS",
    "MAX_NULL_SHARE",
    "MA_FEATURE",
    "MIN_TRAINING_ROWS",
    "MODEL_FEATURES",
    "MOVING_AVERAGE_PARAMS",
    "NO_LINE",
    "OVER",
    "PASS",
    "PLAYER_GAME_KEYS",
    "RETRAIN_CADENCE",
    "SEASON_BREAK_MONTH",
    "SYSTEMS",
    "SYSTEM_ENSEMBLE",
    "SYSTEM_LIGHTGBM",
    "SYSTEM_MOVING_AVERAGE",
    "THRESHOLDS",
    "TRAINING_THREADS",
    "TRAINING_WINDOW_DAYS",
    "UNDER",
    "VALIDATION_DAYS",
    "held_out_boundary",
    "Cadence",
    "EnsembleParams",
    "FitKey",
    "FitPlan",
    "MovingAverageParams",
    "PointsTrainer",
    "Thresholds",
    "TrainedModel",
    "base_predictions",
    "bins_anchor",
    "boundaries_between",
    "cadence_boundary",
    "confidence",
    "ensemble_v1",
    "ensemble_weight",
    "graded_history",
    "model_features",
    "model_inputs",
    "moving_average_v1",
    "next_boundary",
    "predict_points",
    "prediction_rows",
    "recommend",
    "recommendation_expr",
    "train_points_model",
    "training_rows",
    "unmatched_lines",
]
