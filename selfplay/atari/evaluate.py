"""Evaluating a DQN checkpoint under the published protocol, and recording a video.

Protocol (Mnih et al. 2015; Machado et al. 2018 for sticky actions): the raw game score (no
reward clipping), whole games (losing a life does not end an episode), epsilon 0.05, up to 30
no-ops at the start, and at most 108k frames per game (27k agent steps, 30 minutes of play at
60 Hz: the cap of most later papers; the Nature paper stopped games at 5 minutes). Sticky
actions and the full action set follow the training config. The summary gives the mean and
standard deviation over games and, for the 57 games of envs.atari.baselines, the
human-normalised score (agent - random) / (human - random).

`write_eval_json` keeps one evaluation as a JSON file (by default RUN/eval-STEP.json): the
game, the training seed, the protocol, the agent steps, every game's score: what
selfplay.atari.report aggregates over games and seeds.

Episodes run on up to 8 environments at once; environment e plays games e, e + N, ... so the
set of games does not favour short ones.

With `points=True` each game is also written as its points in order ('+' a reward, '-' a
penalty: in Pong a point won or lost) and the summary says how often a point is lost after a
won one, after a lost one, and as a game's first: a weakness that shows only after a lost
point (a serve the agent rarely saw) makes lost points come in runs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from agents.dqn import EpsilonGreedyActor
from envs.atari import AtariSettings, make_reference_env, resolve_game
from envs.atari.baselines import ATARI_57, BASELINE_SOURCE, human_normalized_score
from envs.atari.classic import canonical_env_id, is_classic, make_vec_env
from envs.atomic import atomic_file
from selfplay.atari.config import (
    DQNConfig,
    DQNConfigError,
    cpu_threads,
    resolve_device,
)
from selfplay.atari.policy_file import is_policy_file, load_policy

MAX_EVAL_ENVS = 8
VIDEO_FPS = 15  # one frame per agent step (4 emulator frames at 60 Hz)


@dataclasses.dataclass
class EvalResult:
    """Scores of whole games, their mean/std, and the human-normalised mean (or None); the
    rest says which agent played how, for the JSON record."""

    env_id: str
    scores: list[float]
    mean: float
    std: float
    human_normalized: float | None
    eps: float = 0.05
    eval_seed: int = 0
    seed: int | None = None  # the training run's seed
    protocol: str = "nature"
    agent_steps: int | None = None
    checkpoint: str = ""
    from_run: bool = True  # False: a policy file, which belongs to no run directory

    def to_json(self) -> dict:
        """The record `rlgo atari report` reads (format 1)."""
        game = None if is_classic(self.env_id) else resolve_game(self.env_id)
        random_score, human_score = ATARI_57.get(game, (None, None))
        return {"format": 1, "env_id": self.env_id, "game": game or self.env_id,
                "seed": self.seed, "eval_seed": self.eval_seed, "protocol": self.protocol,
                "agent_steps": self.agent_steps, "eps": self.eps, "episodes": len(self.scores),
                "returns": self.scores, "mean": self.mean, "std": self.std,
                "human_normalized": self.human_normalized, "random_score": random_score,
                "human_score": human_score, "baseline_source": BASELINE_SOURCE,
                "checkpoint": self.checkpoint}


def run_directory(checkpoint: str | Path) -> Path:
    """The run directory of a checkpoint path: the path itself for a directory, RUN for
    RUN/checkpoints/ckpt-N.pt, else the file's folder."""
    path = Path(checkpoint)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "checkpoints" else path.parent


def write_eval_json(result: EvalResult, path: str | Path) -> Path:
    """Write `result.to_json()` to `path` atomically (a killed eval leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as f:
        f.write((json.dumps(result.to_json(), indent=1) + "\n").encode())
    return path


def default_json_path(result: EvalResult) -> Path | None:
    """RUN/eval-STEP.json: where `rlgo atari eval` keeps its record unless told otherwise
    (None for a policy file: it belongs to no run directory)."""
    if not result.from_run:
        return None
    step = result.agent_steps if result.agent_steps is not None else 0
    return run_directory(result.checkpoint) / f"eval-{step:012d}.json"


def play_episodes(network: torch.nn.Module, env_id: str, config: DQNConfig, episodes: int,
                  eps: float, seed: int, device: torch.device | str = "cpu",
                  on_game: Callable[[float, str], None] | None = None) -> list[float]:
    """Raw scores of `episodes` whole games played epsilon-greedily with `network`;
    `on_game(score, points)` is called as each game ends (games of a strong agent take
    minutes), `points` being the game's nonzero rewards in order as '+' and '-'."""
    num_envs = min(episodes, MAX_EVAL_ENVS)
    env = make_vec_env(env_id, num_envs, training=False, noop_max=config.noop_max,
                       sticky_actions=config.sticky_actions,
                       full_action_space=config.full_action_space)
    actor = EpsilonGreedyActor(network, env.num_actions, np.random.default_rng(seed), device)
    quota = [len(range(e, episodes, num_envs)) for e in range(num_envs)]
    scores: list[list[float]] = [[] for _ in range(num_envs)]
    returns = np.zeros(num_envs)
    points: list[list[str]] = [[] for _ in range(num_envs)]
    obs = env.reset(seed=seed)
    try:
        while any(len(scores[e]) < quota[e] for e in range(num_envs)):
            out = env.step(actor.act(obs, eps))
            returns += out.score
            for e in np.flatnonzero(out.score):
                points[e].append("+" if out.score[e] > 0 else "-")
            for e in np.flatnonzero(out.terminated | out.truncated):
                if len(scores[e]) < quota[e]:
                    scores[e].append(float(returns[e]))
                    if on_game is not None:
                        on_game(float(returns[e]), "".join(points[e]))
                returns[e], points[e] = 0.0, []
            obs = out.obs
    finally:
        env.close()
    return [score for per_env in scores for score in per_env]


def evaluate(checkpoint: str | Path, env_id: str | None = None, episodes: int = 30,
             eps: float = 0.05, video: str | Path | None = None, seed: int = 0,
             device: str = "auto", log: Callable[[str], None] = print,
             threads: int | None = None, points: bool = False) -> EvalResult:
    """Play `episodes` games with the checkpoint's network; print and return the scores.
    `threads` (else the run's torch_threads, 0 being cpu_threads' auto) sets torch's threads;
    `points` also prints each game's points and how lost points follow each other."""
    torch_device = resolve_device(device)
    network, config, state = load_policy(checkpoint, torch_device)
    env_id = canonical_env_id(env_id or state["env_id"])
    if env_id != state["env_id"]:
        _check_compatible(env_id, config, state)
        log(f"note: checkpoint trained on {state['env_id']}, evaluating on {env_id}")
    before = torch.get_num_threads()
    torch.set_num_threads(cpu_threads(threads or config.torch_threads))
    done: list[float] = []
    games: list[str] = []

    def progress(score: float, game_points: str) -> None:
        done.append(score)
        games.append(game_points)
        log(f"game {len(done)}/{episodes}: {score:g} (mean so far {np.mean(done):.2f})"
            + (f" {game_points}" if points else ""))

    try:
        scores = play_episodes(network, env_id, config, episodes, eps, seed, torch_device,
                               on_game=progress)
    finally:
        torch.set_num_threads(before)
    mean, std = float(np.mean(scores)), float(np.std(scores))
    normalized = None if is_classic(env_id) else human_normalized_score(resolve_game(env_id),
                                                                         mean)
    log(f"{env_id}: {len(scores)} episodes, eps {eps}: mean {mean:.2f}, std {std:.2f}, "
        f"min {min(scores):.1f}, max {max(scores):.1f}")
    protocol = str(getattr(config, "protocol", "nature"))
    log(f"protocol: {protocol}; agent steps {state.get('step')}, training seed "
        f"{getattr(config, 'seed', None)}")
    if normalized is not None:
        random_score, human_score = ATARI_57[resolve_game(env_id)]
        log(f"human-normalised score: {100 * normalized:.1f}% (random {random_score}, human "
            f"{human_score}; {BASELINE_SOURCE})")
    if points:
        log(point_streaks(games))
    if video is not None:
        record_video(network, env_id, config, eps, seed, torch_device, Path(video), log)
    return EvalResult(env_id, scores, mean, std, normalized, eps=eps, eval_seed=seed,
                      seed=getattr(config, "seed", None), protocol=protocol,
                      agent_steps=state.get("step"), checkpoint=str(checkpoint),
                      from_run=not is_policy_file(state))


def point_streaks(games: list[str]) -> str:
    """How often a point is lost ('-') after a won one, after a lost one, and as a game's
    first, over games written as '+'/'-' strings."""
    before = {"+": "after a won point", "-": "after a lost point", "": "as a game's first"}
    lost = {name: [0, 0] for name in before.values()}  # [points lost, points played]
    for game in games:
        for i, point in enumerate(game):
            counts = lost[before[game[i - 1:i]]]  # game[-1:0] is "" for the first point
            counts[0] += point == "-"
            counts[1] += 1
    if not any(games):
        return "points: none scored"
    rates = ", ".join(f"{key} {100 * k / n:.0f}% ({k}/{n})" for key, (k, n) in lost.items() if n)
    won = sum(game.count("+") for game in games)
    return f"points: {won} won, {sum(map(len, games)) - won} lost; lost {rates}"


def _check_compatible(env_id: str, config: DQNConfig, state: dict) -> None:
    """A network can play another env only with the same observation shape and actions."""
    env = make_vec_env(env_id, 1, training=False, full_action_space=config.full_action_space)
    shape, actions = list(env.obs_shape), env.num_actions
    env.close()
    if shape != list(state["obs_shape"]) or actions != state["num_actions"]:
        raise DQNConfigError(f"the checkpoint's network ({state['env_id']}: observations "
                             f"{state['obs_shape']}, {state['num_actions']} actions) cannot "
                             f"play {env_id} (observations {shape}, {actions} actions)")


def record_video(network: torch.nn.Module, env_id: str, config: DQNConfig, eps: float,
                 seed: int, device: torch.device, path: Path,
                 log: Callable[[str], None] = print, max_steps: int | None = None) -> bool:
    """Play one more game in colour and write it to `path` (.mp4: H.264 through imageio-ffmpeg;
    .avi: Motion JPEG through OpenCV; .gif with imageio), stopping early after `max_steps`
    agent steps if given. Returns False, after saying why, when no writer can do it."""
    if is_classic(env_id):
        log(f"no video: recording is for Atari games ({env_id} renders through pygame)")
        return False
    writer = open_video_writer(path, log)
    if writer is None:
        return False
    settings = AtariSettings.evaluation(noop_max=config.noop_max,
                                        sticky_actions=config.sticky_actions,
                                        full_action_space=config.full_action_space)
    env = make_reference_env(env_id, settings, render_mode="rgb_array")
    actor = EpsilonGreedyActor(network, int(env.action_space.n), np.random.default_rng(seed),
                               device)
    obs, _ = env.reset(seed=seed)
    score, frames, done = 0.0, 0, False
    try:
        while not done:
            writer(env.render())
            frames += 1
            obs, reward, terminated, truncated, _ = env.step(int(actor.act(obs[None], eps)[0]))
            score += float(reward)
            done = terminated or truncated or (max_steps is not None and frames >= max_steps)
        writer(env.render())
    finally:
        writer(None)
        env.close()
    log(f"video: {path} ({frames + 1} frames at {VIDEO_FPS} fps, score {score:.0f})")
    return True


def open_video_writer(path: Path, log: Callable[[str], None]):
    """A function taking RGB frames [H, W, 3] (None closes), or None after a message. The
    file is opened on the first frame, whose size it takes."""
    suffix = path.suffix.lower()
    if suffix not in VIDEO_FORMATS:
        log(f"no video: unknown format {suffix or '(none)'!r}; use .mp4, .avi or .gif")
        return None
    module, package, open_frames = VIDEO_FORMATS[suffix]
    if importlib.util.find_spec(module) is None:
        log(f"no video: {suffix} needs the Python package {package} (pip install {package})")
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    sink: list = []  # (put, close) once the first frame came

    def write(frame: np.ndarray | None) -> None:
        if frame is None:
            if sink:
                sink[0][1]()
            return
        if not sink:
            sink.append(open_frames(path, frame.shape[1::-1]))
        sink[0][0](np.ascontiguousarray(frame))

    return write


def _h264_frames(path: Path, size: tuple[int, int]):
    """H.264 in yuv420p with the index first (-movflags +faststart): what every browser plays.
    The encoder is the ffmpeg that imageio-ffmpeg ships; OpenCV's wheels have none (their
    .mp4 is MPEG-4 Part 2, which no browser plays)."""
    import imageio_ffmpeg

    frames = imageio_ffmpeg.write_frames(str(path), size, fps=VIDEO_FPS, codec="libx264",
                                         pix_fmt_out="yuv420p", macro_block_size=2,
                                         output_params=["-movflags", "+faststart"],
                                         ffmpeg_log_level="error")
    frames.send(None)  # starts ffmpeg
    return frames.send, frames.close


def _mjpeg_frames(path: Path, size: tuple[int, int]):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), VIDEO_FPS, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {path}")
    return (lambda frame: writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))), writer.release


def _gif_frames(path: Path, size: tuple[int, int]):
    import imageio.v2 as imageio

    gif = imageio.get_writer(str(path), mode="I", duration=1000 / VIDEO_FPS)
    return gif.append_data, gif.close


# suffix: (module, the package that installs it, its writer: (path, (W, H)) -> (put, close))
VIDEO_FORMATS = {".mp4": ("imageio_ffmpeg", "imageio-ffmpeg", _h264_frames),
                 ".avi": ("cv2", "opencv-python-headless", _mjpeg_frames),
                 ".gif": ("imageio", "imageio", _gif_frames)}
