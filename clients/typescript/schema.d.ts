/**
 * Types of the Moderation API, generated from openapi/openapi.json by openapi-typescript.
 * Do not edit: run `npm run client:generate` after `npm run openapi:generate`.
 */

export interface paths {
    "/analyse/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Moderate one image by URL
         * @description Downloads the image, and answers from an earlier decision when the same bytes (SHA-256) or a near-identical picture (perceptual hash) was judged before; otherwise asks the image classifier (SightEngine when configured, else the offline model). Every call leaves one row in moderation_log.
         */
        post: operations["analyseImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/analyse/images/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Moderate up to 50 images at once
         * @description Each image is analysed as by POST /analyse/image and answered in input order; one failing image never fails the batch. The same URL twice is fetched and judged once. Every image leaves its own moderation_log row, carrying the batch_id.
         */
        post: operations["analyseImagesBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/analyse/video": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Moderate a short video by URL
         * @description Samples one frame every VIDEO_SAMPLE_INTERVAL_S seconds and judges each with the image classifier, skipping frames that repeat an earlier frame or match known content, and stopping at the first flagged frame. Every call leaves one row in moderation_log.
         */
        post: operations["analyseVideo"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/analyse/text": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Moderate a message, comment or bio
         * @description Judges the text with Gemini when GEMINI_API_KEY is set, otherwise with offline rules. The same normalised text in the same context is answered from the store. A provider failure answers `decision: "error"`, never a 5xx and never `pass`. Every call leaves one row in moderation_log.
         */
        post: operations["analyseText"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process is running */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: the database answers and the image classifier is loaded
         * @description Send traffic only while this answers 200. It checks that the database answers, that the offline image model is loaded (when it is the image classifier), and that the process is not shutting down. Paid providers are not called: an outage there gives the PROVIDER_OUTAGE_DECISION answer (`review` by default), not an unready service.
         */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Counters and histograms in the Prometheus text format: requests by route and status, decisions by content type and source, provider calls, errors and retries, calls avoided by the store, ffmpeg run times, database pool use, and the process itself. The README lists every metric.
         */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dashboard": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Dashboard: decisions, cache hits, provider calls saved, latency (HTML)
         * @description A self-contained HTML page (inline CSS and SVG, no script, nothing loaded from elsewhere) drawn from the analyst views over moderation_log: decisions per day, cache hit ratio, provider calls saved, p95 latency, provider failures and the most-flagged users. It shows user ids, so it needs an API key unless PUBLIC_ENDPOINTS lists `dashboard`; a browser cannot send the key, so put the page behind your proxy's login or make it public on a private network only.
         */
        get: operations["dashboard"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @example {
         *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
         *       "is_duplicate": true,
         *       "decision": "flagged",
         *       "reason": "weapon 0.91 >= 0.85 (flagged)",
         *       "source": "cache_near",
         *       "provider": "sightengine",
         *       "review_details": {
         *         "weapon": {
         *           "score": 0.91,
         *           "level": "flagged",
         *           "threshold": 0.85
         *         }
         *       },
         *       "similar_items": [
         *         {
         *           "url": "https://example.com/uploads/original.jpg",
         *           "similarity": 4,
         *           "decision": "flagged",
         *           "labels": [
         *             "weapon"
         *           ]
         *         }
         *       ],
         *       "sha256": "9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
         *       "phash": "f81bf99ffb803400e07f8c7d049f058706013e233fe33fe11f600e638ea30def"
         *     }
         */
        AnalyseImageResponse: {
            /** @description Key of this request in moderation_log. */
            request_id: string;
            /** @description True when the decision was reused from an identical or near-identical earlier image (no provider call). */
            is_duplicate: boolean;
            decision: components["schemas"]["Decision"];
            /** @description Why, in words. */
            reason: string;
            /**
             * @description How the decision was reached: a SightEngine call (`provider`), the offline classifier (`local`), an exact (sha256) or near (perceptual hash) earlier match, or a provider failure (then the outage decision: `review` unless PROVIDER_OUTAGE_DECISION says otherwise).
             * @enum {string}
             */
            source: "provider" | "cache_exact" | "cache_near" | "local" | "error";
            /** @description The classifier that judged the image (or the earlier image it matched): `sightengine` or `nsfwjs` (offline). */
            provider: string;
            review_details?: components["schemas"]["ReviewDetails"];
            /** @description Earlier images within the near-duplicate distance, closest first. */
            similar_items?: components["schemas"]["SimilarItem"][];
            /** @description Hex SHA-256 of the downloaded bytes. */
            sha256: string;
            /** @description 256-bit blockhash as 64 hex characters; null for images smaller than 16x16 pixels, which have no meaningful hash. */
            phash: string | null;
        };
        /**
         * @description `pass`: acceptable. `review`: a human should look. `flagged`: not acceptable.
         * @enum {string}
         */
        Decision: "pass" | "review" | "flagged";
        /**
         * @description Per category that reached its review or flag threshold.
         * @example {
         *       "weapon": {
         *         "score": 0.91,
         *         "level": "flagged",
         *         "threshold": 0.85
         *       }
         *     }
         */
        ReviewDetails: {
            sexual?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            suggestive?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            weapon?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            drugs?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            gore?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            violence?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            hate_symbols?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            offensive_gesture?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
            self_harm?: {
                /** @description The classifier score, 0..1. */
                score: number;
                /** @enum {string} */
                level: "review" | "flagged";
                /** @description The threshold the score reached. */
                threshold: number;
            };
        };
        SimilarItem: {
            /** @description The URL the earlier image was fetched from. */
            url: string | null;
            /** @description Hamming distance between the perceptual hashes (0 = identical, of 256 bits). */
            similarity: number;
            decision: components["schemas"]["Decision"];
            /** @description Categories that reached review or flag for the earlier image. */
            labels: string[];
        };
        /**
         * @example {
         *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
         *       "code": "fetch_failed",
         *       "detail": "Could not fetch the URL: the server answered HTTP 404."
         *     }
         */
        Error: {
            /** @description Quote this when reporting a problem; it is the moderation_log key. */
            request_id: string;
            /**
             * @description Stable machine-readable error code.
             * @enum {string}
             */
            code: "invalid_request" | "body_too_large" | "url_not_allowed" | "fetch_failed" | "media_too_large" | "unsupported_media_type" | "undecodable_media" | "not_found" | "unauthorized" | "rate_limited" | "overloaded" | "audit_unavailable" | "database_unavailable" | "internal_error";
            /** @description What went wrong, for a human. */
            detail: string;
            /** @description For invalid_request: each offending field and what is wrong with it. */
            errors?: {
                path: string;
                message: string;
            }[];
        };
        /**
         * @example {
         *       "url": "https://example.com/uploads/avatar.jpg",
         *       "user_uuid": "5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13"
         *     }
         */
        AnalyseImageRequest: {
            /**
             * Format: uri
             * @description http(s) URL of the image. Accepted formats: JPEG, PNG, WebP, GIF, AVIF, TIFF (decided from the bytes).
             * @example https://example.com/uploads/avatar.jpg
             */
            url: string;
            /**
             * @description Your identifier for the user who posted the image (usually a UUID); stored in moderation_log.
             * @example 5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13
             */
            user_uuid: string;
        };
        /**
         * @example {
         *       "batch_id": "3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8",
         *       "total_images": 2,
         *       "processed": 1,
         *       "max_concurrent": 5,
         *       "results": [
         *         {
         *           "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
         *           "url": "https://example.com/album/1.jpg",
         *           "status": "success",
         *           "is_duplicate": false,
         *           "decision": "pass",
         *           "reason": "no category reached its review threshold",
         *           "source": "provider",
         *           "provider": "sightengine",
         *           "sha256": "9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
         *           "phash": "f81bf99ffb803400e07f8c7d049f058706013e233fe33fe11f600e638ea30def"
         *         },
         *         {
         *           "request_id": "7d2c9a4e-1b3f-4e8a-9c6d-5f0e2a1b3c4d",
         *           "url": "https://example.com/album/2.jpg",
         *           "status": "error",
         *           "error": {
         *             "code": "fetch_failed",
         *             "detail": "Could not fetch the URL: the server answered HTTP 404."
         *           }
         *         }
         *       ]
         *     }
         */
        AnalyseImagesBatchResponse: {
            /** @description Shared by the moderation_log rows of every item. */
            batch_id: string;
            total_images: number;
            /** @description Items that received a decision (status success). */
            processed: number;
            max_concurrent: number;
            /** @description One per submitted image, in input order. */
            results: components["schemas"]["AnalyseImagesBatchItem"][];
        };
        AnalyseImagesBatchItem: {
            /** @description Key of this item in moderation_log. */
            request_id: string;
            /** @description True when the decision was reused from an identical or near-identical earlier image (no provider call). */
            is_duplicate?: boolean;
            decision?: components["schemas"]["Decision"];
            /** @description Why, in words. */
            reason?: string;
            /**
             * @description How the decision was reached: a SightEngine call (`provider`), the offline classifier (`local`), an exact (sha256) or near (perceptual hash) earlier match, or a provider failure (then the outage decision: `review` unless PROVIDER_OUTAGE_DECISION says otherwise).
             * @enum {string}
             */
            source?: "provider" | "cache_exact" | "cache_near" | "local" | "error";
            /** @description The classifier that judged the image (or the earlier image it matched): `sightengine` or `nsfwjs` (offline). */
            provider?: string;
            review_details?: components["schemas"]["ReviewDetails"];
            /** @description Earlier images within the near-duplicate distance, closest first. */
            similar_items?: components["schemas"]["SimilarItem"][];
            /** @description Hex SHA-256 of the downloaded bytes. */
            sha256?: string;
            /** @description 256-bit blockhash as 64 hex characters; null for images smaller than 16x16 pixels, which have no meaningful hash. */
            phash?: string | null;
            /** @description The URL as submitted. */
            url: string;
            /**
             * @description `success`: the fields of a single-image answer follow. `error`: see `error`.
             * @enum {string}
             */
            status: "success" | "error";
            /** @description Why this item has no decision; the same codes as the single-image endpoint. */
            error?: {
                /** @enum {string} */
                code: "invalid_request" | "body_too_large" | "url_not_allowed" | "fetch_failed" | "media_too_large" | "unsupported_media_type" | "undecodable_media" | "not_found" | "unauthorized" | "rate_limited" | "overloaded" | "audit_unavailable" | "database_unavailable" | "internal_error";
                detail: string;
            };
        };
        /**
         * @example {
         *       "images": [
         *         {
         *           "url": "https://example.com/album/1.jpg",
         *           "user_uuid": "5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13"
         *         },
         *         {
         *           "url": "https://example.com/album/2.jpg",
         *           "user_uuid": "5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13"
         *         }
         *       ],
         *       "max_concurrent": 5
         *     }
         */
        AnalyseImagesBatchRequest: {
            /** @description 1 to 50 images, each { url, user_uuid }. */
            images: components["schemas"]["AnalyseImageRequest"][];
            /**
             * @description How many images of this batch are worked on at once (1-10, default 5). Provider calls are also bounded process-wide (SIGHTENGINE_MAX_CONCURRENT), whatever the batches ask for.
             * @default 5
             * @example 5
             */
            max_concurrent: number;
        };
        /**
         * @example {
         *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
         *       "is_duplicate": false,
         *       "decision": "flagged",
         *       "reason": "Frame at 9 s: weapon 0.93 >= 0.85 (flagged)",
         *       "frames_analyzed": 4,
         *       "flagged_at_timestamp": 9,
         *       "review_details": {
         *         "weapon": {
         *           "score": 0.93,
         *           "level": "flagged",
         *           "threshold": 0.85
         *         }
         *       },
         *       "source": "provider",
         *       "provider": "sightengine",
         *       "sha256": "9f2c6a1d0e4b8f7a3c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"
         *     }
         */
        AnalyseVideoResponse: {
            /** @description Key of this request in moderation_log. */
            request_id: string;
            /** @description True when the decision came without any provider call (an identical or near-identical video, or frames all known), or the video matches most frames of an earlier one. */
            is_duplicate: boolean;
            decision: components["schemas"]["Decision"];
            reason: string;
            /** @description Sampled frames that were judged (analysis stops at the first flagged frame). */
            frames_analyzed: number;
            /** @description Seconds into the video of the first flagged frame, to the sampling interval. */
            flagged_at_timestamp?: number;
            review_details?: components["schemas"]["ReviewDetails"] & unknown;
            similar_items?: components["schemas"]["VideoSimilarItem"][];
            /**
             * @description How the decision was reached: a SightEngine call (`provider`), the offline classifier (`local`), an exact (sha256) or near (perceptual hash) earlier match, or a provider failure (then the outage decision: `review` unless PROVIDER_OUTAGE_DECISION says otherwise).
             * @enum {string}
             */
            source: "provider" | "cache_exact" | "cache_near" | "local" | "error";
            provider: string;
            /** @description Hex SHA-256 of the downloaded file. */
            sha256: string;
        };
        VideoSimilarItem: {
            /** @description The URL the earlier video was fetched from. */
            url: string | null;
            /** @description Mean Hamming distance between the matching frames (0 = identical). */
            similarity: number;
            /** @enum {string} */
            decision: "pass" | "review" | "flagged";
            labels: string[];
            /** @description Share of the earlier video's sampled frames that this video's frames match. */
            matched_frames_ratio: number;
        };
        /**
         * @example {
         *       "url": "https://example.com/uploads/clip.mp4",
         *       "user_uuid": "5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13"
         *     }
         */
        AnalyseVideoRequest: components["schemas"]["AnalyseImageRequest"] & {
            /**
             * Format: uri
             * @description http(s) URL of the video. Accepted containers: MP4, MOV, WebM, MKV, AVI, MPEG, 3GP (decided from the bytes).
             * @example https://example.com/uploads/clip.mp4
             */
            url?: string;
        };
        /**
         * @example {
         *       "request_id": "7d2c9a4e-1b3f-4e8a-9c6d-5f0e2a1b3c4d",
         *       "decision": "flagged",
         *       "reason": "Promises a free giveaway behind a shortened link to lure users off the platform.",
         *       "categories": [
         *         "scam",
         *         "spam"
         *       ],
         *       "is_duplicate": false,
         *       "source": "provider",
         *       "provider": "gemini"
         *     }
         */
        AnalyseTextResponse: {
            /** @description Key of this request in moderation_log. */
            request_id: string;
            /**
             * @description `pass`, `review` (a human should look) or `flagged`; `error` when the provider could not answer (then `reason` is API_REQUEST_FAILED).
             * @enum {string}
             */
            decision: "pass" | "review" | "flagged" | "error";
            /** @description Why, in words; exactly `API_REQUEST_FAILED` for `error`. */
            reason: string;
            /** @description For `error` only: which provider failed, and how. */
            details?: string;
            /** @description The policy categories the message falls into; empty for pass. */
            categories: ("hate" | "harassment" | "threat" | "sexual" | "sexual_minors" | "self_harm" | "violence" | "extremism" | "illegal_goods" | "spam" | "scam" | "personal_data" | "profanity")[];
            /** @description True when the same normalised message in the same context was judged before (no provider call). */
            is_duplicate: boolean;
            /**
             * @description `provider` (Gemini), `local` (offline rules), `cache_exact` (reused), `error` (provider failure).
             * @enum {string}
             */
            source: "provider" | "cache_exact" | "local" | "error";
            /** @description `gemini` or `local`. */
            provider: string;
        };
        /**
         * @example {
         *       "text": "Great photo! DM me for a free iPhone giveaway 🎁 bit.ly/xyz",
         *       "user_uuid": "5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13",
         *       "thread_context": [
         *         "Anyone selling concert tickets?",
         *         "I have two, message me"
         *       ]
         *     }
         */
        AnalyseTextRequest: {
            /**
             * @description The message to judge. At most TEXT_MAX_CHARS characters (default 10000).
             * @example Great photo! DM me for a free iPhone giveaway 🎁 bit.ly/xyz
             */
            text: string;
            /**
             * @description Your identifier for the author (usually a UUID); stored in moderation_log.
             * @example 5b3a1f0e-8c7d-4e62-9a1b-2f4d6c8e0a13
             */
            user_uuid: string;
            /**
             * @description Earlier messages of the conversation, oldest first. Used to understand the message (replies, sarcasm, quotes); never judged themselves. At most TEXT_CONTEXT_MAX_MESSAGES messages (default 20) and TEXT_CONTEXT_MAX_CHARS characters in all (default 20000).
             * @example [
             *       "Anyone selling concert tickets?",
             *       "I have two, message me"
             *     ]
             */
            thread_context?: string[];
        };
        /**
         * @example {
         *       "status": "ok"
         *     }
         */
        Health: {
            /** @enum {string} */
            status: "ok" | "unavailable";
        };
        /**
         * @example {
         *       "status": "unavailable",
         *       "checks": {
         *         "database": "failed",
         *         "local_image_model": "ok",
         *         "shutdown": "ok"
         *       },
         *       "detail": "The database does not answer."
         *     }
         */
        Readiness: {
            /** @enum {string} */
            status: "ok" | "unavailable";
            /** @description Each check and its result. */
            checks: {
                /**
                 * @description The database has been reached, migrated, and answers (on SQLite: its write lock can be taken). `failed` from start-up until then, and during an outage.
                 * @enum {string}
                 */
                database: "ok" | "failed";
                /**
                 * @description Only when images are judged by the offline classifier: its model is loaded and has answered.
                 * @enum {string}
                 */
                local_image_model?: "ok" | "failed";
                /**
                 * @description `failed` once the process has been told to stop (SIGTERM) and is finishing its requests.
                 * @enum {string}
                 */
                shutdown: "ok" | "failed";
            };
            /** @description When unavailable: which checks failed, in words. */
            detail?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    analyseImage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnalyseImageRequest"];
            };
        };
        responses: {
            /** @description The decision. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnalyseImageResponse"];
                };
            };
            /** @description The URL cannot be used: not http(s), points into a private network, cannot be fetched, is too large, or is not decodable media of an accepted format (codes url_not_allowed, fetch_failed, media_too_large, unsupported_media_type, undecodable_media). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "fetch_failed",
                     *       "detail": "Could not fetch the URL: the server answered HTTP 404."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body is larger than MAX_BODY_BYTES (code body_too_large). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "body_too_large",
                     *       "detail": "The request body is larger than 1048576 bytes (MAX_BODY_BYTES)."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is not JSON, not sent as application/json, or does not match the schema (code invalid_request); `errors` lists the fields. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "invalid_request",
                     *       "detail": "The request body is invalid (user_uuid: Invalid input: expected string, received undefined).",
                     *       "errors": [
                     *         {
                     *           "path": "user_uuid",
                     *           "message": "Invalid input: expected string, received undefined"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The API key's rate limit is reached (code rate_limited); retry after the Retry-After header's seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "rate_limited",
                     *       "detail": "Too many requests for this API key; retry in 12 s."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An unexpected failure inside the service (code internal_error). Nothing internal is revealed. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "internal_error",
                     *       "detail": "An unexpected error occurred. Quote the request_id when reporting it."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The service is at capacity (code overloaded), its database is unavailable (code database_unavailable), or the audit row could be written neither to the database nor to the local spool so no answer is given (code audit_unavailable). Retry after the Retry-After header's seconds when it is present. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "overloaded",
                     *       "detail": "The service is at capacity; retry in a few seconds."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    analyseImagesBatch: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnalyseImagesBatchRequest"];
            };
        };
        responses: {
            /** @description One result per image. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnalyseImagesBatchResponse"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body is larger than MAX_BODY_BYTES (code body_too_large). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "body_too_large",
                     *       "detail": "The request body is larger than 1048576 bytes (MAX_BODY_BYTES)."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is not JSON, not sent as application/json, or does not match the schema (code invalid_request); `errors` lists the fields. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "invalid_request",
                     *       "detail": "The request body is invalid (user_uuid: Invalid input: expected string, received undefined).",
                     *       "errors": [
                     *         {
                     *           "path": "user_uuid",
                     *           "message": "Invalid input: expected string, received undefined"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The API key's rate limit is reached (code rate_limited); retry after the Retry-After header's seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "rate_limited",
                     *       "detail": "Too many requests for this API key; retry in 12 s."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An unexpected failure inside the service (code internal_error). Nothing internal is revealed. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "internal_error",
                     *       "detail": "An unexpected error occurred. Quote the request_id when reporting it."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The service is at capacity (code overloaded), its database is unavailable (code database_unavailable), or the audit row could be written neither to the database nor to the local spool so no answer is given (code audit_unavailable). Retry after the Retry-After header's seconds when it is present. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "overloaded",
                     *       "detail": "The service is at capacity; retry in a few seconds."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    analyseVideo: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnalyseVideoRequest"];
            };
        };
        responses: {
            /** @description The decision. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnalyseVideoResponse"];
                };
            };
            /** @description The URL cannot be used: not http(s), points into a private network, cannot be fetched, is too large, or is not decodable media of an accepted format (codes url_not_allowed, fetch_failed, media_too_large, unsupported_media_type, undecodable_media). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "fetch_failed",
                     *       "detail": "Could not fetch the URL: the server answered HTTP 404."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body is larger than MAX_BODY_BYTES (code body_too_large). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "body_too_large",
                     *       "detail": "The request body is larger than 1048576 bytes (MAX_BODY_BYTES)."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is not JSON, not sent as application/json, or does not match the schema (code invalid_request); `errors` lists the fields. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "invalid_request",
                     *       "detail": "The request body is invalid (user_uuid: Invalid input: expected string, received undefined).",
                     *       "errors": [
                     *         {
                     *           "path": "user_uuid",
                     *           "message": "Invalid input: expected string, received undefined"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The API key's rate limit is reached (code rate_limited); retry after the Retry-After header's seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "rate_limited",
                     *       "detail": "Too many requests for this API key; retry in 12 s."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An unexpected failure inside the service (code internal_error). Nothing internal is revealed. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "internal_error",
                     *       "detail": "An unexpected error occurred. Quote the request_id when reporting it."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The service is at capacity (code overloaded), its database is unavailable (code database_unavailable), or the audit row could be written neither to the database nor to the local spool so no answer is given (code audit_unavailable). Retry after the Retry-After header's seconds when it is present. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "overloaded",
                     *       "detail": "The service is at capacity; retry in a few seconds."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    analyseText: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnalyseTextRequest"];
            };
        };
        responses: {
            /** @description The decision. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnalyseTextResponse"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The request body is larger than MAX_BODY_BYTES (code body_too_large). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "body_too_large",
                     *       "detail": "The request body is larger than 1048576 bytes (MAX_BODY_BYTES)."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is not JSON, not sent as application/json, or does not match the schema (code invalid_request); `errors` lists the fields. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "invalid_request",
                     *       "detail": "The request body is invalid (user_uuid: Invalid input: expected string, received undefined).",
                     *       "errors": [
                     *         {
                     *           "path": "user_uuid",
                     *           "message": "Invalid input: expected string, received undefined"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The API key's rate limit is reached (code rate_limited); retry after the Retry-After header's seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "rate_limited",
                     *       "detail": "Too many requests for this API key; retry in 12 s."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An unexpected failure inside the service (code internal_error). Nothing internal is revealed. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "internal_error",
                     *       "detail": "An unexpected error occurred. Quote the request_id when reporting it."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The service is at capacity (code overloaded), its database is unavailable (code database_unavailable), or the audit row could be written neither to the database nor to the local spool so no answer is given (code audit_unavailable). Retry after the Retry-After header's seconds when it is present. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "overloaded",
                     *       "detail": "The service is at capacity; retry in a few seconds."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready to serve. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "checks": {
                     *         "database": "ok",
                     *         "local_image_model": "ok",
                     *         "shutdown": "ok"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not ready; `checks` says which check failed. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics, in the Prometheus text exposition format 0.0.4. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    dashboard: {
        parameters: {
            query?: {
                /** @description How many UTC days to show, ending today (1-90). */
                days?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The dashboard page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description No API key, or a key that is not valid (code unauthorized). Send "Authorization: Bearer <key>" or "X-API-Key: <key>". */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "unauthorized",
                     *       "detail": "The API key is not valid."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description `days` is not a whole number from 1 to 90 (code invalid_request). */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "invalid_request",
                     *       "detail": "The query string is invalid (days: Too big: expected number to be <=90).",
                     *       "errors": [
                     *         {
                     *           "path": "days",
                     *           "message": "Too big: expected number to be <=90"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An unexpected failure inside the service (code internal_error). Nothing internal is revealed. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "request_id": "0b8f3c2e-4d1a-4c55-9a57-0f3b8c1d2e4f",
                     *       "code": "internal_error",
                     *       "detail": "An unexpected error occurred. Quote the request_id when reporting it."
                     *     }
                     */
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
