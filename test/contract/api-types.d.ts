// Generated from openapi/openapi.json by testkit/generate-api-types.ts (openapi-typescript).
// Do not edit: `npm run openapi:generate` rewrites it with the spec.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getLiveness"];
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
        /** Readiness */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/rerank": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rerank one user’s candidates
         * @description Returns a permutation of exactly the given candidates. LLM faults never become errors: the baseline order is returned with `fallback.reason`.
         */
        post: operations["rerank"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Erase every cached profile of a user */
        delete: operations["deleteUserProfiles"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List prompt versions */
        get: operations["listPrompts"];
        put?: never;
        /** Import a prompt version */
        post: operations["importPrompt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts/{domain}/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get one prompt version */
        get: operations["getPrompt"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/prompts/{domain}/{version}/activate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Activate a version (rollback = activate an older one) */
        post: operations["activatePrompt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List training jobs */
        get: operations["listTrainingJobs"];
        put?: never;
        /** Start a training job */
        post: operations["submitTrainingJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a training job */
        get: operations["getTrainingJob"];
        put?: never;
        post?: never;
        /** Cancel a training job */
        delete: operations["cancelTrainingJob"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A training job's report (Markdown)
         * @description Written when the job completes, is cancelled, or stops because the LLM was unavailable.
         */
        get: operations["getTrainingJobReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/report/ndcg.svg": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A training job's NDCG@10 chart (SVG) */
        get: operations["getTrainingJobChart"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/training-jobs/{id}/trace": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A training job's LLM call trace (JSONL)
         * @description Grows while the job runs; kept as long as the job is listed.
         */
        get: operations["getTrainingJobTrace"];
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
        HistoryItemInput: {
            /** @description Item id, unique within the list. */
            id: string;
            /** @description Untrusted display title; truncated in prompts. */
            title: string;
            /** @description Optional untrusted description; truncated in prompts. */
            text?: string;
        };
        CandidateInput: {
            /** @description Item id, unique within the list. */
            id: string;
            /** @description Untrusted display title; truncated in prompts. */
            title: string;
            /** @description Optional untrusted description; truncated in prompts. */
            text?: string;
            /** @description The baseline recommender's score. */
            score?: number;
        };
        RerankRequestInput: {
            userId: string;
            /** @description Oldest first; the last N are used. */
            history: components["schemas"]["HistoryItemInput"][];
            /** @description The baseline recommender's top-k, in its order. Ids must be unique. */
            candidates: components["schemas"]["CandidateInput"][];
            /** @default default */
            domain?: string;
            /** @description Return only the first N. */
            topN?: number;
            /**
             * @default agp
             * @enum {string}
             */
            method?: "agp" | "direct" | "cot" | "baseline";
            /** @description Caller's budget; capped by the server maximum. */
            deadlineMs?: number;
            /** @default false */
            includeProfile?: boolean;
        };
        PromptVersionInput: {
            domain: string;
            version: string;
            text: string;
            /** @default null */
            parentVersion?: string | null;
            /** Format: date-time */
            createdAt?: string;
            /** @default 10 */
            historyLength?: number;
            params?: {
                [key: string]: unknown;
            };
            metrics?: {
                [key: string]: unknown;
            };
        };
        TrainingParamsInput: {
            /** @description Must equal the job's `domain` when given. */
            domain?: string;
            /**
             * @description Passes over the training users.
             * @default 10
             */
            epochs?: number;
            /**
             * @description Users per optimisation step.
             * @default 10
             */
            batchSize?: number;
            /**
             * @description History items per user given to the profile step (the last N).
             * @default 5
             */
            historyLength?: number;
            /**
             * @description Training users used (after the validation hold-out).
             * @default 100
             */
            trainUsers?: number;
            /**
             * @description 0: accept every usable edit; 1..3: re-run the batch and keep the edit only if the mean rank improves, with up to N summarise/edit tries.
             * @default 1
             */
            verifySteps?: number;
            /**
             * @description Fraction (0.01-0.99) held out for validation when no validation set is given.
             * @default 0.2
             */
            valFraction?: number;
            /** @description Number of validation users (held out, or a cap on the given validation set). */
            valUsers?: number;
            /**
             * @description Seed for shuffling and the hold-out split.
             * @default 42
             */
            seed?: number;
            /** @description Users processed at once. Default: TRAINING_CONCURRENCY (server setting). */
            concurrency?: number;
            /**
             * @description structured: position feedback goes straight to the summariser; llm: one "reason" call per user not ranked first (authors' code).
             * @default structured
             * @enum {string}
             */
            reasons?: "structured" | "llm";
            /** @description Per-role model overrides. */
            models?: {
                [key: string]: string;
            };
            /** @description Total LLM call ceiling across the run (resumes included). */
            maxLlmCalls?: number;
            /** @description Total token ceiling (checked before each call; calls in flight may overshoot slightly). */
            maxTokens?: number;
            /**
             * @description Stop after this many epochs without a validation gain (0 disables).
             * @default 3
             */
            patience?: number;
            /**
             * @description Budget for one user's profile + rerank, in ms.
             * @default 120000
             */
            userTimeoutMs?: number;
            /**
             * @description Budget for one summarise / edit / reason call, in ms.
             * @default 300000
             */
            optimizerTimeoutMs?: number;
            /**
             * @description Completion token cap of the optimizer calls.
             * @default 1024
             */
            optimizerMaxTokens?: number;
            /**
             * @description Stop when this many consecutive batches lost every user to LLM errors.
             * @default 3
             */
            maxDeadBatches?: number;
        };
        TrainingJobRequestInput: {
            domain: string;
            dataset: {
                users: unknown[];
            } | {
                path: string;
            };
            validation?: {
                users: unknown[];
            } | {
                path: string;
            };
            /** @default {} */
            params?: components["schemas"]["TrainingParamsInput"];
            /**
             * @default never
             * @enum {string}
             */
            activate?: "never" | "if-better";
        };
        /** @enum {string} */
        FallbackReason: "llm_unconfigured" | "timeout" | "llm_error" | "unparseable" | "overloaded" | "circuit_open";
        RerankResponse: {
            ranking: {
                id: string;
                /** @description 1-based position after reranking. */
                rank: number;
                /** @description 1-based position in the request. */
                baseRank: number;
            }[];
            /** @enum {string} */
            method: "agp" | "direct" | "cot" | "baseline";
            promptVersion: string;
            fallback: {
                reason: components["schemas"]["FallbackReason"];
            } | null;
            /** @description True when the LLM's answer was usable only after repair. */
            repaired: boolean;
            /** @description Null when the answer used no profile: methods without one (baseline, direct, cot), agp with an empty history (no profile call), and agp answers that fell back before a profile existed (e.g. llm_unconfigured). */
            profile: {
                cached: boolean;
                stale?: boolean;
                text?: string;
            } | null;
            usage: {
                llmCalls: number;
                promptTokens: number;
                completionTokens: number;
            };
            timingsMs: {
                total: number;
                profile?: number;
                rerank?: number;
            };
            requestId: string;
        };
        ErrorResponse: {
            error: {
                /** @description Stable machine-readable code. */
                code: string;
                message: string;
                requestId: string;
            };
        };
        TrainingJob: {
            jobId: string;
            domain: string;
            /** @enum {string} */
            state: "queued" | "running" | "completed" | "failed" | "cancelled";
            createdAt: string;
            startedAt?: string;
            finishedAt?: string;
            progress: {
                epoch: number;
                batch: number;
                totalBatches?: number;
                llmCalls: number;
                tokens: number;
                etaSeconds: number | null;
                phase?: string;
            };
            metrics: {
                [key: string]: unknown;
            };
            result?: {
                promptVersion: string;
                activated: boolean;
                metrics: {
                    [key: string]: unknown;
                };
            };
            error?: string;
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
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready (`degraded` when Redis is down: reranks still work without the shared cache). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ready" | "degraded" | "not_ready";
                        checks: {
                            /** @enum {string} */
                            redis: "ok" | "down" | "not_configured";
                            /** @enum {string} */
                            prompts: "loaded" | "lost" | "not_loaded";
                            /** @enum {string} */
                            llm: "configured" | "unconfigured";
                        };
                        activePrompts: {
                            [key: string]: string;
                        };
                    };
                };
            };
            /** @description Not ready (prompts not loaded yet) or shedding load. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ready" | "degraded" | "not_ready";
                        checks: {
                            /** @enum {string} */
                            redis: "ok" | "down" | "not_configured";
                            /** @enum {string} */
                            prompts: "loaded" | "lost" | "not_loaded";
                            /** @enum {string} */
                            llm: "configured" | "unconfigured";
                        };
                        activePrompts: {
                            [key: string]: string;
                        };
                    } | components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    rerank: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user-42",
                 *       "domain": "movies",
                 *       "history": [
                 *         {
                 *           "id": "m-101",
                 *           "title": "Before Sunrise",
                 *           "text": "Two strangers talk their way through one night in Vienna."
                 *         },
                 *         {
                 *           "id": "m-102",
                 *           "title": "Lost in Translation"
                 *         }
                 *       ],
                 *       "candidates": [
                 *         {
                 *           "id": "m-201",
                 *           "title": "Notting Hill",
                 *           "score": 0.82
                 *         },
                 *         {
                 *           "id": "m-202",
                 *           "title": "Dune",
                 *           "score": 0.79
                 *         },
                 *         {
                 *           "id": "m-203",
                 *           "title": "Arrival",
                 *           "score": 0.77
                 *         }
                 *       ],
                 *       "method": "agp",
                 *       "topN": 2,
                 *       "includeProfile": true
                 *     }
                 */
                "application/json": components["schemas"]["RerankRequestInput"];
            };
        };
        responses: {
            /** @description A permutation of exactly the given candidates. LLM faults are not errors: the baseline order comes back with `fallback.reason`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RerankResponse"];
                };
            };
            /** @description Invalid request (`VALIDATION_ERROR`, `INVALID_JSON`, `DUPLICATE_CANDIDATE_ID`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Over RATE_LIMIT_MAX for this client (`RATE_LIMITED`); retry after `Retry-After` seconds. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteUserProfiles: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased: `deleted` counts the cached entries removed (0 when there were none). Generations in flight for the user are not cached afterwards. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        userId: string;
                        deleted: number;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The profile store is unavailable: nothing was erased; retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listPrompts: {
        parameters: {
            query?: {
                domain?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every stored prompt version (of `domain` when given), with `active` flags. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        prompts: {
                            domain: string;
                            version: string;
                            active: boolean;
                            parentVersion: string | null;
                            createdAt: string;
                            historyLength: number;
                            metrics: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    importPrompt: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "version": "v2",
                 *       "parentVersion": "v1",
                 *       "text": "Describe the viewer in four sentences: favourite genres, tone, eras, and what they avoid.",
                 *       "historyLength": 10
                 *     }
                 */
                "application/json": components["schemas"]["PromptVersionInput"];
            };
        };
        responses: {
            /** @description Stored, not active. Re-importing identical content is a no-op and also answers 201. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        active: boolean;
                        parentVersion: string | null;
                        createdAt: string;
                        historyLength: number;
                        metrics: {
                            [key: string]: unknown;
                        };
                        text: string;
                        params?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description This domain/version already holds a different text (`CONFLICT`); versions are immutable. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getPrompt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
                version: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The prompt version with its text. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        active: boolean;
                        parentVersion: string | null;
                        createdAt: string;
                        historyLength: number;
                        metrics: {
                            [key: string]: unknown;
                        };
                        text: string;
                        params?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such prompt version (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    activatePrompt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                domain: string;
                version: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Active for its domain; every replica serves it within PROMPT_REFRESH_MS. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        domain: string;
                        version: string;
                        /** @enum {boolean} */
                        active: true;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such prompt version (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listTrainingJobs: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Known training jobs, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobs: components["schemas"]["TrainingJob"][];
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Training is not available in this process (`SERVICE_UNAVAILABLE`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    submitTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "domain": "movies",
                 *       "dataset": {
                 *         "path": "movies/train.jsonl"
                 *       },
                 *       "validation": {
                 *         "path": "movies/val.jsonl"
                 *       },
                 *       "params": {
                 *         "epochs": 3,
                 *         "batchSize": 10,
                 *         "trainUsers": 100,
                 *         "verifySteps": 1,
                 *         "maxLlmCalls": 5000
                 *       },
                 *       "activate": "if-better"
                 *     }
                 */
                "application/json": components["schemas"]["TrainingJobRequestInput"];
            };
        };
        responses: {
            /** @description Queued: poll GET /admin/v1/training-jobs/{id} with the returned `jobId`. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                    };
                };
            };
            /** @description Invalid request, `params` or dataset: a file missing or outside TRAINING_DATA_DIR, malformed users, nothing left to train on (`VALIDATION_ERROR`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Body larger than BODY_LIMIT_BYTES (`PAYLOAD_TOO_LARGE`). */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Content-Type is not application/json (`UNSUPPORTED_MEDIA_TYPE`). */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Training is not available in this process (`SERVICE_UNAVAILABLE`). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job: state, progress, and the result once finished. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TrainingJob"];
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such job (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Conflicts with the current state (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    cancelTrainingJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled: a queued job never starts; a running one has its LLM calls aborted and ends `cancelled`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        cancelled: boolean;
                    };
                };
            };
            /** @description Invalid input: the body, path or query failed validation (`VALIDATION_ERROR`, `INVALID_JSON`). */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such job (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The job has already finished (`CONFLICT`). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobReport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The training report in Markdown (as `agp train` writes report.md), with the NDCG@10 chart inline as SVG. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/markdown": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobChart: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The NDCG@10 per epoch chart of the training report (ndcg.svg). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/svg+xml": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getTrainingJobTrace: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every LLM call of the job so far, one JSON object per line (seq, role, model, requestHash, response, tokens, latency, error), as `agp train` writes trace.jsonl. `x-trace-truncated: true` when the trace reached its size bound (8 MiB). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": string;
                };
            };
            /** @description Missing or wrong admin bearer token (`UNAUTHORIZED`). */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No such resource (`NOT_FOUND`). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Shedding load (`SERVICE_OVERLOADED`) or a dependency is unavailable (`SERVICE_UNAVAILABLE`); retry after `Retry-After` seconds. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
