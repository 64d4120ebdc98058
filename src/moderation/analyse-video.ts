import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { sha256File, sha256Hex } from '../dedupe/content-digest.js';
import type { NearDuplicateLimits } from '../dedupe/near-duplicate-policy.js';
import { computePerceptualHash, detailLevel, nearestWithin, type PerceptualHash } from '../dedupe/perceptual-hash.js';
import { AppError } from '../errors.js';
import type { Downloader } from '../media/download.js';
import { probeVideo, sampleFrames, type FfmpegBinaries, type SampledFrame, type VideoProbe } from '../media/ffmpeg.js';
import { encodeJpeg } from '../media/image-decode.js';
import { sniffVideoFile } from '../media/media-type.js';
import type { ImageModerator } from '../providers/image-moderator.js';
import { ProviderError } from '../providers/provider-error.js';
import { severity, worseDecision, type Decision, type ReviewDetails } from '../providers/thresholds.js';
import type { DecisionSource, JudgedVideo, Store } from '../store/store.js';
import type { AuditRecord } from './audit-record.js';
import { outageReason, recordOutage } from './provider-outage.js';
import { rememberJudgement, storedNeighbours } from './stored-judgements.js';
import { joinFlight, type SingleFlight } from './single-flight.js';
import { inSlot, type WorkGate } from './work-gate.js';

/**
 * POST /analyse/video as a use case. The video is downloaded to a temporary file (always removed),
 * probed, and sampled one frame every few seconds. Each frame is judged as cheaply as possible:
 * - a frame close to an earlier frame of the same video reuses that frame's answer;
 * - a frame close to a stored image or frame reuses its judgement under the image reuse policy
 *   (so a frame that looks like a known flagged picture is flagged with no provider call);
 * - otherwise the image moderator is asked, a few frames at a time.
 * The first flagged frame stops decoding and abandons the calls still pending for later frames.
 * A video whose frames match most of a stored video's frames is reported as its duplicate.
 */

export type VideoLimits = {
  maxBytes: number;
  fetchTimeoutMs: number;
  maxDurationSeconds: number;
  maxPixels: number;
  sampleIntervalSeconds: number;
  maxFrames: number;
  frameSize: number;
  frameConcurrency: number;
  decodeTimeoutMs: number;
  duplicateMinMatch: number;
  tempDir: string;
};

/** Reports how long ffprobe and ffmpeg ran, for metrics. */
export interface VideoObserver {
  ffmpegFinished(step: 'probe' | 'sample', seconds: number, outcome: 'ok' | 'error'): void;
}

export type VideoAnalysisDeps = {
  store: Store;
  downloader: Downloader;
  imageModerator: ImageModerator;
  dedupe: NearDuplicateLimits & { minDetail: number };
  ffmpeg: FfmpegBinaries;
  video: VideoLimits;
  workGate: WorkGate;
  /** Videos being judged now, by sha256: a second request for the same file waits for the first. */
  videosInFlight: SingleFlight<VideoAnalysis>;
  videoObserver?: VideoObserver | undefined;
  /** The answer when the classifier fails (PROVIDER_OUTAGE_DECISION). */
  outageDecision: Decision;
};

export type VideoSimilarItem = { url: string | null; similarity: number; decision: Decision; labels: string[]; matchedFramesRatio: number };

export type VideoAnalysis = {
  isDuplicate: boolean;
  decision: Decision;
  reason: string;
  framesAnalyzed: number;
  flaggedAtTimestamp: number | null;
  reviewDetails: ReviewDetails;
  similarItems: VideoSimilarItem[];
  sha256: string;
  source: DecisionSource;
  provider: string;
  /** The stored video (videos.id) this answer comes from, when there is one. */
  storedId?: number | undefined;
};

/** How one sampled frame was judged. */
type FrameJudgement = {
  decision: Decision;
  reason: string;
  details: ReviewDetails;
  /** The stored image that stands for this frame (its own row, or the one it matched). */
  imageId: number | undefined;
  via: 'provider' | 'store' | 'video';
  /** Stored images within the pass distance, with their distance: evidence for video dedupe. */
  matches: { imageId: number; distance: number }[];
};

type FrameRecord = {
  index: number;
  timestampSeconds: number;
  hash: PerceptualHash | null;
  cancel: AbortController;
  judgement: Promise<FrameJudgement | 'abandoned'>;
};

export async function analyseVideo(deps: VideoAnalysisDeps, request: { url: string }, audit: AuditRecord): Promise<VideoAnalysis> {
  return inSlot(deps.workGate, () => analyseVideoFile(deps, request, audit));
}

async function analyseVideoFile(deps: VideoAnalysisDeps, request: { url: string }, audit: AuditRecord): Promise<VideoAnalysis> {
  const folder = await mkdtemp(join(deps.video.tempDir, 'moderation-video-'));
  try {
    const file = join(folder, 'video');
    await deps.downloader.downloadToFile(request.url, file, { maxBytes: deps.video.maxBytes, timeoutMs: deps.video.fetchTimeoutMs });
    const sha256 = await sha256File(file);
    audit.sha256 = sha256;

    const moderator = deps.imageModerator;
    const exact = await deps.store.findVideoBySha256(sha256);
    if (exact && exact.provider === moderator.name) return reuseStoredVideo(exact, audit);

    const flight = deps.videosInFlight.run(sha256, async (trail) => {
      await sniffVideoFile(file);
      const probe = await probeVideo(deps.ffmpeg, file, { timeoutMs: deps.video.decodeTimeoutMs, onFinished: reporter(deps, 'probe') });
      checkLimits(probe, deps.video);
      return judgeVideo(deps, file, probe, request.url, sha256, trail);
    });
    return await joinFlight(flight, audit);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function reporter(deps: VideoAnalysisDeps, step: 'probe' | 'sample') {
  const observer = deps.videoObserver;
  return observer ? (seconds: number, ok: boolean) => observer.ffmpegFinished(step, seconds, ok ? 'ok' : 'error') : undefined;
}

function checkLimits(probe: VideoProbe, limits: VideoLimits): void {
  // A video that does not state its duration is bounded by VIDEO_MAX_FRAMES and the decode budget instead.
  if (probe.durationSeconds !== null && probe.durationSeconds > limits.maxDurationSeconds) {
    throw new AppError('media_too_large', `The video lasts ${probe.durationSeconds.toFixed(1)} s, longer than the limit of ${limits.maxDurationSeconds} s (VIDEO_MAX_DURATION_S).`);
  }
  if (probe.width * probe.height > limits.maxPixels) {
    throw new AppError('media_too_large', `The video is ${probe.width}x${probe.height}, more pixels per frame than the limit of ${limits.maxPixels} (VIDEO_MAX_PIXELS).`);
  }
}

async function judgeVideo(deps: VideoAnalysisDeps, file: string, probe: VideoProbe, url: string, sha256: string, audit: AuditRecord): Promise<VideoAnalysis> {
  const moderator = deps.imageModerator;
  const limit = pLimit(deps.video.frameConcurrency);
  const frames: FrameRecord[] = [];
  let firstFlagged = Number.POSITIVE_INFINITY;
  let failed = false;
  // Decode at most this many frames ahead of the answers, so a flagged frame stops decoding soon.
  const lookahead = deps.video.frameConcurrency * 2;
  const pending = new Set<Promise<unknown>>();

  const sampler = sampleFrames(deps.ffmpeg, file, probe, {
    intervalSeconds: deps.video.sampleIntervalSeconds,
    longSide: deps.video.frameSize,
    maxFrames: deps.video.maxFrames,
    timeoutMs: deps.video.decodeTimeoutMs,
    onFinished: reporter(deps, 'sample'),
  });
  for await (const frame of sampler) {
    if (frame.index > firstFlagged || failed) break;
    const record = startFrame(deps, frame, frames, url, limit);
    frames.push(record);
    const settled = record.judgement.then(
      (judgement) => {
        if (judgement !== 'abandoned' && judgement.decision === 'flagged' && record.index < firstFlagged) {
          firstFlagged = record.index;
          // Later frames cannot change the answer: stop paying for them.
          for (const later of frames) if (later.index > record.index) later.cancel.abort();
        }
      },
      () => {
        // One frame the provider could not judge: stop paying for the rest (an answer is still given).
        failed = true;
        for (const frame of frames) frame.cancel.abort();
      },
    );
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
    while (pending.size >= lookahead && firstFlagged === Number.POSITIVE_INFINITY && !failed) await Promise.race(pending);
    if (firstFlagged !== Number.POSITIVE_INFINITY || failed) break;
  }

  const considered = frames.filter((frame) => frame.index <= firstFlagged);
  const outcomes = await Promise.allSettled(considered.map((frame) => frame.judgement));
  const answered: { frame: FrameRecord; judgement: FrameJudgement }[] = [];
  let providerFailure: ProviderError | undefined;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') {
      if (!(outcome.reason instanceof ProviderError)) throw outcome.reason;
      providerFailure ??= outcome.reason;
    } else if (outcome.value !== 'abandoned') {
      answered.push({ frame: considered[i] as FrameRecord, judgement: outcome.value });
    }
  });
  // A frame already found flagged decides the video, whatever another frame's provider call did;
  // short of that, a failure means part of the video was never seen: held for review.
  if (providerFailure && !answered.some((entry) => entry.judgement.decision === 'flagged')) {
    const worstSeen = answered.reduce<Decision>((worst, entry) => worseDecision(worst, entry.judgement.decision), 'pass');
    return providerFailed(providerFailure, worseDecision(deps.outageDecision, worstSeen), answered.length, sha256, audit);
  }
  if (answered.length === 0) throw new AppError('undecodable_media', 'No frame could be decoded from the video.');

  // The decision of the worst frame; among equals, the earliest.
  const worst = answered.reduce((a, b) => (severity[b.judgement.decision] > severity[a.judgement.decision] ? b : a));
  const flaggedAt = worst.judgement.decision === 'flagged' ? worst.frame.timestampSeconds : null;
  const providerCalls = answered.filter((entry) => entry.judgement.via === 'provider').length;
  const duplicate = await findDuplicateVideo(deps, answered.map((entry) => entry.judgement));

  let decision = worst.judgement.decision;
  let reason = frameReason(worst.judgement, worst.frame.timestampSeconds);
  if (duplicate && severity[duplicate.video.decision] > severity[decision]) {
    // Like a stored neighbour, a near-identical video judged worse before gets the cautious answer.
    decision = duplicate.video.decision;
    reason = `Near-identical to an earlier video judged ${duplicate.video.decision}: ${duplicate.video.reason}`;
  }
  const isDuplicate = providerCalls === 0 || duplicate !== undefined;
  const source: DecisionSource = providerCalls > 0 ? moderator.source : 'cache_near';
  const details = duplicate && decision === duplicate.video.decision && decision !== worst.judgement.decision ? duplicate.video.labels : worst.judgement.details;

  // A video with a frame the provider never judged is not stored: a later request judges it afresh.
  const storedId = providerFailure ? undefined : await saveVideo(deps, { sha256, url, probe, decision, reason, details, flaggedAt, answered });
  Object.assign(audit, {
    decision,
    reason,
    source,
    provider: moderator.name,
    matchedItemId: duplicate?.video.id ?? null,
    matchedDistance: duplicate?.item.similarity ?? null,
    rawResponse: {
      frames: answered.map((entry) => ({ t: entry.frame.timestampSeconds, decision: entry.judgement.decision, via: entry.judgement.via })),
      provider_calls: providerCalls,
    },
  });
  return {
    isDuplicate,
    decision,
    reason,
    framesAnalyzed: answered.length,
    flaggedAtTimestamp: flaggedAt,
    reviewDetails: details,
    similarItems: duplicate ? [duplicate.item] : [],
    sha256,
    source,
    provider: moderator.name,
    storedId,
  };
}

/** Starts judging one frame: from an earlier frame of this video, from the store, or by the provider. */
function startFrame(deps: VideoAnalysisDeps, frame: SampledFrame, earlier: FrameRecord[], url: string, limit: ReturnType<typeof pLimit>): FrameRecord {
  const hash = computePerceptualHash(frame.pixels);
  const cancel = new AbortController();
  const base = { index: frame.index, timestampSeconds: frame.timestampSeconds, hash, cancel };

  // Frames of one video that look alike are the same shot: the first one's answer holds for all,
  // also for flat frames (a fade to black), which never borrow a pass across different content.
  const sameShot = hash ? nearestWithin(earlier, (frame) => frame.hash, hash, deps.dedupe.passMaxDistance)?.item : undefined;
  if (sameShot) {
    const judgement = sameShot.judgement.then((earlierJudgement) =>
      earlierJudgement === 'abandoned' ? earlierJudgement : { ...earlierJudgement, via: 'video' as const },
    );
    return { ...base, judgement };
  }
  const lowDetail = detailLevel(frame.pixels) < deps.dedupe.minDetail;
  return { ...base, judgement: limit(() => judgeFrame(deps, frame, hash, lowDetail, url, cancel.signal)) };
}

async function judgeFrame(
  deps: VideoAnalysisDeps,
  frame: SampledFrame,
  hash: PerceptualHash | null,
  lowDetail: boolean,
  url: string,
  signal: AbortSignal,
): Promise<FrameJudgement | 'abandoned'> {
  if (signal.aborted) return 'abandoned';
  const moderator = deps.imageModerator;
  const { neighbours, reusable } = await storedNeighbours(deps, hash, { lowDetail, animated: false }, moderator.name);
  const matches = neighbours.filter((n) => n.distance <= deps.dedupe.passMaxDistance).map((n) => ({ imageId: n.id, distance: n.distance }));
  if (reusable) {
    return { decision: reusable.decision, reason: reusable.reason, details: reusable.labels, imageId: reusable.id, via: 'store', matches };
  }
  if (signal.aborted) return 'abandoned';

  const bytes = moderator.pixelSize ? Buffer.alloc(0) : await encodeJpeg(frame.pixels);
  let judged;
  try {
    judged = await moderator.moderate({ bytes, mime: 'image/jpeg', pixels: frame.pixels }, signal);
  } catch (error) {
    if (signal.aborted) return 'abandoned';
    throw error;
  }
  const imageId = await rememberJudgement(
    deps.store,
    {
      sha256: sha256Hex(frame.pixels.data),
      phash: hash,
      lowDetail,
      animated: false,
      width: frame.pixels.width,
      height: frame.pixels.height,
      format: 'video-frame',
      sourceUrl: `${url}#t=${frame.timestampSeconds}`,
    },
    judged,
  );
  return { decision: judged.decision, reason: judged.reason, details: judged.details, imageId, via: 'provider', matches };
}

/** The stored video that most of this video's frames match, if it passes the duplicate threshold. */
async function findDuplicateVideo(deps: VideoAnalysisDeps, judgements: FrameJudgement[]) {
  const distances = new Map<number, number>();
  for (const judgement of judgements) {
    for (const match of judgement.matches) distances.set(match.imageId, Math.min(match.distance, distances.get(match.imageId) ?? Infinity));
    // A frame answered from the store matched that image, whatever the distance list says.
    if (judgement.via === 'store' && judgement.imageId !== undefined && !distances.has(judgement.imageId)) distances.set(judgement.imageId, 0);
  }
  const candidates = await deps.store.findVideosByFrameImages([...distances.keys()], deps.imageModerator.name);
  const best = candidates
    .map((video) => ({ video, ratio: video.framesAnalyzed > 0 ? Math.min(1, video.matchedFrames / video.framesAnalyzed) : 0 }))
    .filter((candidate) => candidate.ratio >= deps.video.duplicateMinMatch)
    .sort((a, b) => b.ratio - a.ratio)[0];
  if (!best) return undefined;
  const frameDistances = [...distances.values()];
  const similarity = Math.round(frameDistances.reduce((sum, d) => sum + d, 0) / Math.max(1, frameDistances.length));
  const item: VideoSimilarItem = {
    url: best.video.sourceUrl,
    similarity,
    decision: best.video.decision,
    labels: Object.keys(best.video.labels),
    matchedFramesRatio: Math.round(best.ratio * 100) / 100,
  };
  return { video: best.video, item };
}

async function saveVideo(
  deps: VideoAnalysisDeps,
  video: {
    sha256: string;
    url: string;
    probe: VideoProbe;
    decision: Decision;
    reason: string;
    details: ReviewDetails;
    flaggedAt: number | null;
    answered: { frame: FrameRecord; judgement: FrameJudgement }[];
  },
): Promise<number | undefined> {
  // Only a video whose every frame is backed by a stored judgement can be reused later.
  if (video.answered.some((entry) => entry.judgement.imageId === undefined)) return undefined;
  const { id } = await deps.store.saveJudgedVideo({
    sha256: video.sha256,
    provider: deps.imageModerator.name,
    decision: video.decision,
    reason: video.reason,
    labels: video.details,
    framesAnalyzed: video.answered.length,
    flaggedAtMs: video.flaggedAt === null ? null : Math.round(video.flaggedAt * 1000),
    sourceUrl: video.url,
    durationMs: (video.probe.durationSeconds ?? video.answered.at(-1)?.frame.timestampSeconds ?? 0) * 1000,
    width: video.probe.width,
    height: video.probe.height,
    frames: video.answered.map((entry) => ({ timestampMs: entry.frame.timestampSeconds * 1000, imageId: entry.judgement.imageId as number })),
  });
  return id;
}

function frameReason(judgement: FrameJudgement, timestampSeconds: number): string {
  return judgement.decision === 'pass' ? judgement.reason : `Frame at ${timestampSeconds} s: ${judgement.reason}`;
}

function reuseStoredVideo(video: JudgedVideo, audit: AuditRecord): VideoAnalysis {
  Object.assign(audit, { decision: video.decision, reason: video.reason, source: 'cache_exact', provider: video.provider, matchedItemId: video.id, matchedDistance: 0 });
  return {
    isDuplicate: true,
    decision: video.decision,
    reason: video.reason,
    framesAnalyzed: video.framesAnalyzed,
    flaggedAtTimestamp: video.flaggedAtMs === null ? null : video.flaggedAtMs / 1000,
    reviewDetails: video.labels,
    similarItems: [{ url: video.sourceUrl, similarity: 0, decision: video.decision, labels: Object.keys(video.labels), matchedFramesRatio: 1 }],
    sha256: video.sha256,
    source: 'cache_exact',
    provider: video.provider,
    storedId: video.id,
  };
}

/**
 * As for images, the outage decision, never a 500, and nothing stored. A frame judged before the
 * failure still counts: with PROVIDER_OUTAGE_DECISION=pass, a frame already found worth a review
 * keeps the video in review.
 */
function providerFailed(error: ProviderError, decision: Decision, framesAnalyzed: number, sha256: string, audit: AuditRecord): VideoAnalysis {
  const reason = outageReason(decision, 'a frame', error);
  recordOutage(audit, decision, reason, error);
  return {
    isDuplicate: false,
    decision,
    reason,
    framesAnalyzed,
    flaggedAtTimestamp: null,
    reviewDetails: {},
    similarItems: [],
    sha256,
    source: 'error',
    provider: error.provider,
  };
}
