//! The delivery worker, one per process that has `DISPATCH_WEBHOOK_WORKER`: a loop
//! that wakes when an event is recorded (in this process, or on PostgreSQL by the
//! database's `NOTIFY` from any node), when a delivery finishes, and every
//! [`POLL`] otherwise; each round fans new events out into deliveries
//! ([`super::fanout`]), claims as many due deliveries as there are free slots
//! ([`super::lease`]), and sends each in a task of its own ([`super::send`]),
//! signed ([`super::signing`]), recording the attempt under the lease. About once an
//! hour it drops events and finished deliveries past the retention. Every time it
//! reads comes from the application's clock.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{event, webhook, webhook_delivery};
use migration::m20261129_000009_events::CHANNEL;
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter};
use tokio::sync::{Notify, Semaphore, watch};
use uuid::Uuid;

use super::lease::{self, Attempt, Verdict};
use super::send::{Outcome, Sender};
use super::{fanout, signing};
use crate::clock::SharedClock;
use crate::config::EventsConfig;
use crate::content::events::{self, RECORDED};
use crate::metrics::{self, WebhookOutcome};
use crate::state::AppState;

/// How often the worker looks for work when nothing wakes it.
pub const POLL: Duration = Duration::from_millis(200);
/// How long the worker waits after being woken before it looks: the event's
/// transaction commits just after it is recorded, and a burst of writes (or of
/// finished deliveries) is gathered into one round instead of one round each (a
/// round costs a few statements; measured with bench/webhooks).
const GATHER: Duration = Duration::from_millis(25);
/// How often expired events and finished deliveries are dropped, by the clock.
const PURGE_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// How long past its timeout a claimed delivery stays leased.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// Starts the worker on `state` (its `db` is the pool the worker uses; its clock
/// and events settings rule). It stops claiming when `stop` turns true (or its
/// sender goes); deliveries in flight finish. On PostgreSQL it also listens on
/// [`CHANNEL`] over a connection of its own to `database_url`.
pub fn spawn(state: AppState, database_url: String, mut stop: watch::Receiver<bool>) {
    let sender = match Sender::new(&state.events) {
        Ok(sender) => sender,
        Err(err) => {
            tracing::error!(%err, "cannot build the webhook HTTP client; webhooks will not be delivered");
            return;
        }
    };
    let mut worker = Worker {
        db: state.db.clone(),
        clock: state.clock.clone(),
        config: state.events.clone(),
        sender,
        slots: Arc::new(Semaphore::new(state.events.concurrency.max(1))),
        busy: Arc::new(Mutex::new(HashSet::new())),
        finished: Arc::new(Notify::new()),
        last_purge: None,
        failing: false,
    };
    let wake = Arc::new(Notify::new());
    if state.db.get_database_backend() == DbBackend::Postgres {
        let (wake, mut stop) = (wake.clone(), stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = listen(database_url, wake) => {}
                () = stopped(&mut stop) => {}
            }
        });
    }
    tokio::spawn(async move {
        loop {
            let recorded = RECORDED.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();
            worker.round().await;
            let finished = worker.finished.clone();
            tokio::select! {
                () = stopped(&mut stop) => break,
                () = &mut recorded => tokio::time::sleep(GATHER).await,
                () = wake.notified() => tokio::time::sleep(GATHER).await,
                () = finished.notified() => tokio::time::sleep(GATHER).await,
                () = tokio::time::sleep(POLL) => {}
            }
        }
        tracing::debug!("the webhook worker stopped");
    });
}

/// Resolves when `stop` turns true, or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

struct Worker {
    db: DatabaseConnection,
    clock: SharedClock,
    config: Arc<EventsConfig>,
    sender: Sender,
    /// One permit per delivery that may be in flight.
    slots: Arc<Semaphore>,
    /// The deliveries in flight from this process.
    busy: Arc<Mutex<HashSet<Uuid>>>,
    /// Told when a delivery in flight finishes (a slot is free, a sibling may be due).
    finished: Arc<Notify>,
    last_purge: Option<DateTime<Utc>>,
    /// Whether the last round failed (so an outage is logged once, not every round).
    failing: bool,
}

impl Worker {
    async fn round(&mut self) {
        let result = async {
            // Scheduled articles whose time has come are announced (`article.published`)
            // before the fan-out, which then sends those events this same round.
            crate::content::articles::announce_due(&self.db, self.clock.now())
                .await
                .map_err(|err| DbErr::Custom(err.to_string()))?;
            fanout::fan_out(&self.db, self.clock.now()).await?;
            self.dispatch().await?;
            self.purge().await
        }
        .await;
        match result {
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("the webhook worker reaches the database again");
            }
            Ok(()) => {}
            Err(err) if !self.failing => {
                self.failing = true;
                tracing::warn!(%err, "the webhook worker cannot work; it tries again");
            }
            Err(err) => tracing::debug!(%err, "the webhook worker still cannot work"),
        }
    }

    /// Claims due deliveries for the free slots and sends each in a task.
    async fn dispatch(&self) -> Result<(), DbErr> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let busy: Vec<Uuid> = self.busy_ids();
        let hold = self.config.timeout + LEASE_MARGIN;
        let claim = lease::claim(&self.db, self.clock.now(), free as u64, hold, &busy).await?;
        if claim.deliveries.is_empty() {
            return Ok(());
        }
        let (events, hooks) = self.load(&claim.deliveries).await?;
        for delivery in claim.deliveries {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                // Claimed beyond the free slots (cannot happen): its lease runs out.
                break;
            };
            self.lock_busy().insert(delivery.id);
            let job = Job {
                db: self.db.clone(),
                clock: self.clock.clone(),
                sender: self.sender.clone(),
                lease: claim.lease,
                event: delivery
                    .event_position
                    .and_then(|p| events.get(&p).cloned()),
                hook: hooks.get(&delivery.webhook_id).cloned(),
                delivery,
            };
            let (busy, finished) = (self.busy.clone(), self.finished.clone());
            tokio::spawn(async move {
                let id = job.delivery.id;
                job.run().await;
                busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                drop(permit);
                finished.notify_one();
            });
        }
        Ok(())
    }

    fn lock_busy(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn busy_ids(&self) -> Vec<Uuid> {
        self.lock_busy().iter().copied().collect()
    }

    /// The events (by position) and endpoints (by id) of `deliveries`, one statement each.
    async fn load(
        &self,
        deliveries: &[webhook_delivery::Model],
    ) -> Result<(HashMap<i64, event::Model>, HashMap<Uuid, webhook::Model>), DbErr> {
        let positions: Vec<i64> = deliveries.iter().filter_map(|d| d.event_position).collect();
        let events = if positions.is_empty() {
            HashMap::new()
        } else {
            event::Entity::find()
                .filter(event::Column::Position.is_in(positions))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|e| (e.position, e))
                .collect()
        };
        let ids: HashSet<Uuid> = deliveries.iter().map(|d| d.webhook_id).collect();
        let hooks = webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        Ok((events, hooks))
    }

    /// About once an hour by the clock: events past the retention (those a pending
    /// delivery needs stay), and finished deliveries as old.
    async fn purge(&mut self) -> Result<(), DbErr> {
        let now = self.clock.now();
        if self.last_purge.is_some_and(|at| now - at < PURGE_EVERY) {
            return Ok(());
        }
        self.last_purge = Some(now);
        let retention = self.config.retention;
        let events = events::purge_expired(&self.db, now, retention).await?;
        let cutoff =
            now - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
        let deliveries = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::State.is_in([lease::DELIVERED, lease::FAILED]))
            .filter(webhook_delivery::Column::UpdatedAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected;
        if events + deliveries > 0 {
            tracing::info!(
                events,
                deliveries,
                "dropped events and deliveries past the retention"
            );
        }
        Ok(())
    }
}

/// One claimed delivery, sent and recorded in its own task.
struct Job {
    db: DatabaseConnection,
    clock: SharedClock,
    sender: Sender,
    lease: Uuid,
    delivery: webhook_delivery::Model,
    /// The event behind it (`None` for a ping, or an event no longer stored).
    event: Option<event::Model>,
    hook: Option<webhook::Model>,
}

impl Job {
    async fn run(self) {
        let started = self.clock.now();
        let attempted = self.attempt(started).await;
        let finished = self.clock.now();
        let (outcome, verdict) = match attempted {
            Ok(outcome) => {
                let verdict = lease::verdict(self.delivery.attempts, &outcome, finished);
                (outcome, verdict)
            }
            // Nothing can be sent: given up at once.
            Err(error) => (
                Outcome {
                    error: Some(error),
                    ..Outcome::default()
                },
                Verdict::Failed,
            ),
        };
        let recorded = lease::record(
            &self.db,
            Attempt {
                delivery: &self.delivery,
                lease: self.lease,
                hook: self.hook.as_ref(),
                started,
                finished,
                outcome: &outcome,
                verdict: &verdict,
            },
        )
        .await;
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(delivery = %self.delivery.id, "a webhook delivery's lease ran out before its attempt was recorded; another worker has it");
                return;
            }
            Err(err) => {
                tracing::warn!(delivery = %self.delivery.id, %err, "a webhook delivery's attempt could not be recorded; it is tried again when its lease runs out");
                return;
            }
        }
        match verdict {
            Verdict::Delivered => {
                metrics::webhook_attempt(WebhookOutcome::Delivered);
                if let Some(event) = &self.event {
                    metrics::webhook_lag(
                        (finished - event.occurred_at).to_std().unwrap_or_default(),
                    );
                }
            }
            Verdict::Retry(_) => metrics::webhook_attempt(WebhookOutcome::Retrying),
            Verdict::Failed | Verdict::Gone => metrics::webhook_attempt(WebhookOutcome::Failed),
        }
    }

    /// Sends the delivery; `Err` (in words) when there is nothing that can be sent.
    async fn attempt(&self, at: DateTime<Utc>) -> Result<Outcome, String> {
        let hook = self.hook.as_ref().ok_or("the endpoint no longer exists")?;
        let body = match (&self.event, &self.delivery.payload) {
            (Some(event), _) => serde_json::to_vec(&events::envelope(event))
                .map_err(|err| format!("the event could not be encoded: {err}"))?,
            (None, Some(payload)) => payload.clone().into_bytes(),
            (None, None) => {
                return Err("the event is no longer stored (past the retention)".to_string());
            }
        };
        let msg_id = self.delivery.event_id.to_string();
        let timestamp = at.timestamp();
        let secrets = signing::signing_secrets(
            &hook.secret,
            hook.previous_secret.as_deref(),
            hook.previous_secret_until,
            at,
        );
        let signature = signing::header(&secrets, &msg_id, timestamp, &body)
            .ok_or("the endpoint's signing secret is not usable")?;
        Ok(self
            .sender
            .post(super::send::Delivery {
                url: &hook.url,
                msg_id,
                timestamp,
                signature,
                body,
            })
            .await)
    }
}

/// How long a quiet `LISTEN` connection goes before it is asked to answer.
const PING_EVERY: Duration = Duration::from_secs(5);
/// How long it has to answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Wakes the worker on every `NOTIFY` of [`CHANNEL`] (an event committed on any
/// node), over a connection of its own, reconnecting when it is lost or stops
/// answering; the poll covers the time without one.
async fn listen(database_url: String, wake: Arc<Notify>) {
    use sea_orm::sqlx::Executor;
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let listener = async {
            let mut listener = PgListener::connect(&database_url).await?;
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match tokio::time::timeout(PING_EVERY, listener).await {
            Ok(Ok(mut listener)) => {
                // Events committed while not listening are found by this round.
                wake.notify_one();
                loop {
                    match tokio::time::timeout(PING_EVERY, listener.try_recv()).await {
                        Ok(Ok(Some(_))) => wake.notify_one(),
                        Err(_quiet) => {
                            let ping = tokio::time::timeout(
                                PING_TIMEOUT,
                                (&mut listener).execute("SELECT 1"),
                            )
                            .await;
                            if !matches!(ping, Ok(Ok(_))) {
                                tracing::debug!(
                                    "the webhook worker's LISTEN connection stopped answering"
                                );
                                break;
                            }
                        }
                        Ok(Ok(None)) => {
                            tracing::debug!("the webhook worker lost its LISTEN connection");
                            break;
                        }
                        Ok(Err(err)) => {
                            tracing::debug!(%err, "the webhook worker's LISTEN failed");
                            break;
                        }
                    }
                }
            }
            Ok(Err(err)) => tracing::debug!(%err, "the webhook worker cannot LISTEN"),
            Err(_) => tracing::debug!("the webhook worker cannot LISTEN (no answer)"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
