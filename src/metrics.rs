//! Metrics in the Prometheus text format at `GET /metrics`: every request counted and
//! timed by route template, method and status class; the database pools' gauges
//! (read at scrape time); sign-in failures, rate-limit refusals and database outages
//! counted where they happen; the response cache's numbers; webhook delivery
//! attempts by outcome and the lag from event to delivery. One recorder serves the
//! whole process (the `metrics` facade allows one), so several applications in one
//! process (the tests) share it. `/metrics` is guarded by `DISPATCH_METRICS_TOKEN`
//! when set, and otherwise answers loopback clients only.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use metrics::{Counter, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use sha2::{Digest, Sha256};

use crate::client::ClientAddr;
use crate::config::Secret;
use crate::error::{ApiError, DB_UNAVAILABLE, problem_response};
use crate::methods::{Methods, OTHER_PATHS, other_path};

/// Requests answered, by `route`, `method` and `status` (class).
pub const HTTP_REQUESTS: &str = "dispatch_http_requests_total";
/// Seconds from a request's arrival to its response, by the same labels.
pub const HTTP_DURATION: &str = "dispatch_http_request_duration_seconds";
/// Sign-ins refused for a wrong email or password.
pub const LOGIN_FAILURES: &str = "dispatch_login_failures_total";
/// Attempts refused by a rate limit, by `limit` (`login`, `comment`, `api_key`).
pub const RATE_LIMITED: &str = "dispatch_rate_limited_total";
/// Connections of a pool (`pool`: `primary`, `replica`) lent out now.
pub const POOL_IN_USE: &str = "dispatch_db_pool_in_use";
/// Connections of a pool open and idle now.
pub const POOL_IDLE: &str = "dispatch_db_pool_idle";
/// The most connections a pool opens.
pub const POOL_MAX: &str = "dispatch_db_pool_max";
/// Response cache: reads served from it.
pub const CACHE_HITS: &str = "dispatch_cache_hits_total";
/// Response cache: cacheable reads it did not hold.
pub const CACHE_MISSES: &str = "dispatch_cache_misses_total";
/// Response cache: entries evicted for room.
pub const CACHE_EVICTIONS: &str = "dispatch_cache_evictions_total";
/// Response cache: bytes held.
pub const CACHE_BYTES: &str = "dispatch_cache_bytes";
/// Response cache: entries held.
pub const CACHE_ENTRIES: &str = "dispatch_cache_entries";

/// Webhook delivery attempts, by `outcome`: `delivered`, `retrying` (failed, tried
/// again later) or `failed` (given up: attempts exhausted, or the endpoint gone).
pub const WEBHOOK_DELIVERIES: &str = "dispatch_webhook_deliveries_total";
/// Seconds from an event's `occurred_at` to its successful delivery.
pub const WEBHOOK_LAG: &str = "dispatch_webhook_delivery_lag_seconds";

/// The outcomes of [`WEBHOOK_DELIVERIES`].
const WEBHOOK_OUTCOMES: [&str; 3] = ["delivered", "retrying", "failed"];

/// The buckets of [`WEBHOOK_LAG`], in seconds: ten milliseconds to three days.
const LAG_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0,
    21_600.0, 86_400.0, 259_200.0,
];

/// The latency buckets, in seconds: half a millisecond to ten seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder folds recorded samples in, so memory stays bounded between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The label of a path no route serves.
const UNMATCHED: &str = "unmatched";

/// The `method` labels; any other method is `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];

/// The `status` labels.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed as the global one on first use (with every
/// metric described and a thread folding samples in every few seconds).
pub fn handle() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_string()), BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(WEBHOOK_LAG.to_string()), LAG_BUCKETS)
            })
            .unwrap_or_default();
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(err) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%err, "another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        // The counters start at zero, so they show (and `rate()` works) before
        // their first event.
        for name in [LOGIN_FAILURES, CACHE_HITS, CACHE_MISSES, CACHE_EVICTIONS] {
            metrics::counter!(name).increment(0);
        }
        for limit in ["login", "comment", "api_key"] {
            metrics::counter!(RATE_LIMITED, "limit" => limit).increment(0);
        }
        for reason in ["timeout", "unreachable"] {
            metrics::counter!(DB_UNAVAILABLE, "reason" => reason).increment(0);
        }
        for outcome in WEBHOOK_OUTCOMES {
            metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(0);
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_string())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "could not start the metrics upkeep thread");
        }
        handle
    })
}

/// The HELP and unit of every metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by route template, method and status class."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response, by route template, method and status class."
    );
    describe_counter!(
        LOGIN_FAILURES,
        Unit::Count,
        "Sign-ins refused for a wrong email or password."
    );
    describe_counter!(
        RATE_LIMITED,
        Unit::Count,
        "Attempts refused by a rate limit (429), by limit: login, comment or api_key."
    );
    describe_gauge!(
        POOL_IN_USE,
        Unit::Count,
        "Database connections lent out, by pool (primary, replica)."
    );
    describe_gauge!(
        POOL_IDLE,
        Unit::Count,
        "Database connections open and idle, by pool."
    );
    describe_gauge!(
        POOL_MAX,
        Unit::Count,
        "The most connections a pool opens (DISPATCH_DB_MAX_CONNECTIONS)."
    );
    describe_counter!(
        DB_UNAVAILABLE,
        Unit::Count,
        "Requests answered 503 because no database connection could be had, by reason: \
         timeout (every connection stayed busy for DISPATCH_DB_ACQUIRE_TIMEOUT_SECONDS) or \
         unreachable."
    );
    describe_counter!(
        CACHE_HITS,
        Unit::Count,
        "Anonymous reads served from the response cache."
    );
    describe_counter!(
        CACHE_MISSES,
        Unit::Count,
        "Cacheable anonymous reads the response cache did not hold."
    );
    describe_counter!(
        CACHE_EVICTIONS,
        Unit::Count,
        "Response cache entries evicted to stay within DISPATCH_CACHE_BYTES."
    );
    describe_gauge!(
        CACHE_BYTES,
        Unit::Bytes,
        "Bytes held by the response cache."
    );
    describe_gauge!(
        CACHE_ENTRIES,
        Unit::Count,
        "Entries held by the response cache."
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        Unit::Count,
        "Webhook delivery attempts, by outcome: delivered, retrying (failed, tried again \
         later) or failed (given up: attempts exhausted, or the endpoint answered 410)."
    );
    describe_histogram!(
        WEBHOOK_LAG,
        Unit::Seconds,
        "Time from an event to its successful delivery to a webhook endpoint."
    );
}

/// The limits whose refusals are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Login,
    Comment,
    ApiKey,
}

/// Counts an attempt a rate limit refused.
pub fn rate_limited(limit: Limit) {
    let label = match limit {
        Limit::Login => "login",
        Limit::Comment => "comment",
        Limit::ApiKey => "api_key",
    };
    metrics::counter!(RATE_LIMITED, "limit" => label).increment(1);
}

/// What a webhook delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Delivered,
    Retrying,
    Failed,
}

/// Counts a webhook delivery attempt by its outcome.
pub fn webhook_attempt(outcome: WebhookOutcome) {
    let label = match outcome {
        WebhookOutcome::Delivered => WEBHOOK_OUTCOMES[0],
        WebhookOutcome::Retrying => WEBHOOK_OUTCOMES[1],
        WebhookOutcome::Failed => WEBHOOK_OUTCOMES[2],
    };
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => label).increment(1);
}

/// Records how long after its event a delivery succeeded.
pub fn webhook_lag(lag: Duration) {
    metrics::histogram!(WEBHOOK_LAG).record(lag.as_secs_f64());
}

/// Counts a sign-in refused for a wrong email or password.
pub fn login_failed() {
    metrics::counter!(LOGIN_FAILURES).increment(1);
}

/// The request counters and histograms, one per (route, method, status class),
/// made on first use and then reached by index: recording a request allocates nothing.
pub struct Requests {
    methods: Arc<Methods>,
    /// The route labels: the API's templates, then the other addresses, then `unmatched`.
    routes: Vec<String>,
    series: Vec<OnceLock<(Counter, Histogram)>>,
}

impl Requests {
    pub fn new(methods: Arc<Methods>) -> Self {
        handle();
        let routes: Vec<String> = methods
            .templates()
            .chain(OTHER_PATHS.iter().copied())
            .chain([UNMATCHED])
            .map(String::from)
            .collect();
        let series = (0..routes.len() * METHODS.len() * CLASSES.len())
            .map(|_| OnceLock::new())
            .collect();
        Self {
            methods,
            routes,
            series,
        }
    }

    /// The route label (by number) of `path`: its template, never the path itself.
    fn route(&self, path: &str) -> usize {
        let templates = self.routes.len() - OTHER_PATHS.len() - 1;
        if let Some(n) = other_path(path).and_then(|p| OTHER_PATHS.iter().position(|o| *o == p)) {
            return templates + n;
        }
        self.methods
            .template_of(path)
            .unwrap_or(self.routes.len() - 1)
    }

    fn record(&self, route: usize, method: usize, status: StatusCode, elapsed: Duration) {
        let class = usize::from((status.as_u16() / 100).clamp(1, 5)) - 1;
        let at = (route * METHODS.len() + method) * CLASSES.len() + class;
        let Some(slot) = self.series.get(at) else {
            return;
        };
        let (count, time) = slot.get_or_init(|| {
            let labels = [
                ("route", self.routes[route].clone()),
                ("method", METHODS[method].to_string()),
                ("status", CLASSES[class].to_string()),
            ];
            (
                metrics::counter!(HTTP_REQUESTS, &labels),
                metrics::histogram!(HTTP_DURATION, &labels),
            )
        });
        count.increment(1);
        time.record(elapsed.as_secs_f64());
    }
}

fn method_label(method: &Method) -> usize {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    KNOWN
        .iter()
        .position(|m| m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// Middleware: counts and times every request by its route template, method and
/// status class.
pub async fn track<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    requests: Arc<Requests>,
) -> poem::Result<Response> {
    let started = Instant::now();
    let route = requests.route(req.uri().path());
    let method = method_label(req.method());
    let resp = match next.call(req).await {
        Ok(resp) => resp.into_response(),
        Err(err) => err.into_response(),
    };
    requests.record(route, method, resp.status(), started.elapsed());
    Ok(resp)
}

/// `GET /metrics`: the gauges read now, then everything in the text format.
pub struct Scrape {
    /// SHA-256 of `DISPATCH_METRICS_TOKEN`, compared in constant time.
    token: Option<[u8; 32]>,
    pools: Vec<(&'static str, DatabaseConnection)>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Scrape {
    /// The endpoint, guarded by `token` if given, reading the gauges of `pools` (by name).
    pub fn new(token: Option<&Secret>, pools: Vec<(&'static str, DatabaseConnection)>) -> Self {
        handle();
        Self {
            token: token.map(|t| digest(t.expose().as_bytes())),
            pools,
        }
    }

    /// Whether `req` may read the metrics: it carries the token, or (with none set)
    /// it comes from this machine.
    fn refusal(&self, req: &Request) -> Option<ApiError> {
        let Some(token) = &self.token else {
            return (!ClientAddr::of(req).to_canonical().is_loopback()).then(|| {
                ApiError::Forbidden(
                    "The metrics are served to clients on this machine only; set \
                     DISPATCH_METRICS_TOKEN to scrape them from elsewhere."
                        .to_string(),
                )
            });
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| digest(t.trim().as_bytes()));
        let matches = presented.is_some_and(|p| {
            p.iter()
                .zip(token.iter())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
        });
        (!matches).then(|| {
            ApiError::Unauthorized(
                "Reading the metrics needs `Authorization: Bearer` with the metrics token \
                 (DISPATCH_METRICS_TOKEN)."
                    .to_string(),
            )
        })
    }
}

/// Sets the gauges of one pool from what it says now.
fn observe_pool(name: &'static str, db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!(POOL_IN_USE, "pool" => name).set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!(POOL_IDLE, "pool" => name).set(f64::from(idle));
    metrics::gauge!(POOL_MAX, "pool" => name).set(f64::from(max));
}

impl Endpoint for Scrape {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if let Some(refused) = self.refusal(&req) {
            return Ok(problem_response(&refused.problem()));
        }
        for (name, db) in &self.pools {
            observe_pool(name, db);
        }
        let body = handle().render();
        Ok(Response::builder()
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )
            .header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
            .body(body))
    }
}
