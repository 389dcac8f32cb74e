//! The [`Store`](jarvis_core::ports::Store) implementation shared by the SQL stores.
//!
//! Both schemas have the same tables, columns and encodings, and every
//! statement here is valid in both SQLite and PostgreSQL (`$n` placeholders,
//! `ON CONFLICT`, `RETURNING`). What differs is supplied by the store type:
//! the read pool `self.pool`, the connection type, `Store::begin_group(conn,
//! durability)` (SQLite takes the write lock up front with `BEGIN IMMEDIATE`;
//! PostgreSQL commits non-durable groups asynchronously), and a row-lock
//! suffix for reads that decide a write (`FOR UPDATE` on PostgreSQL, nothing
//! on SQLite, whose write transactions are already exclusive).
//!
//! Every write goes through the store's [`GroupWriter`](super::group::GroupWriter):
//! `ingest` as an [`IngestPlan`], everything else as a closure run on the
//! writer's connection inside the group's transaction (`self.write`). Each
//! write names its [`Durability`](super::group::Durability). The group
//! transaction is the pool's [`GroupCommit`](super::group::GroupCommit)
//! implementation below.

macro_rules! impl_sql_store {
    ($store:ty, pool = $pool:ty, conn = $conn:ty, for_update = $for_update:literal) => {
        impl $crate::store::group::GroupCommit for $pool {
            type Conn = $conn;

            async fn commit(
                &self,
                plans: &[&$crate::store::sql::IngestPlan],
                writes: &mut [Box<dyn $crate::store::group::Write<$conn>>],
                durability: $crate::store::group::Durability,
            ) -> Result<$crate::store::group::GroupResults, StoreError> {
                const DOING: &str = "committing a group of writes";
                let mut conn = self.acquire().await.map_err(db_err(DOING))?;
                let mut tx = <$store>::begin_group(&mut conn, durability).await?;
                // Alone, an entry's failure is the transaction's; in company,
                // each entry gets a savepoint so it fails alone.
                let several = plans.len() + writes.len() > 1;
                let mut results = Vec::with_capacity(plans.len());
                if !plans.is_empty() && !several {
                    results = <$store>::ingest_plans(&mut tx, plans).await?;
                } else if !plans.is_empty() {
                    results = match <$store>::ingest_in_savepoint(&mut tx, plans).await? {
                        Ok(done) => done,
                        Err(error) => {
                            tracing::warn!(
                                %error,
                                batches = plans.len(),
                                "group ingest failed, committing its batches one by one"
                            );
                            let mut each = Vec::with_capacity(plans.len());
                            for plan in plans {
                                each.push(
                                    match <$store>::ingest_in_savepoint(&mut tx, &[*plan]).await? {
                                        Ok(mut done) => done.pop().unwrap_or_else(|| {
                                            Err(StoreError::Corrupt("no result for a batch".into()))
                                        }),
                                        Err(error) => Err(error),
                                    },
                                );
                            }
                            each
                        }
                    };
                }
                for write in writes.iter_mut() {
                    if several {
                        let mut one = sqlx::Connection::begin(&mut *tx).await.map_err(db_err(DOING))?;
                        if write.run(&mut one).await {
                            one.commit().await.map_err(db_err(DOING))?;
                        } else {
                            one.rollback().await.map_err(db_err(DOING))?;
                        }
                    } else if !write.run(&mut tx).await {
                        // Its own error reaches its caller through `finish`.
                        tx.rollback().await.map_err(db_err(DOING))?;
                        return Ok(results);
                    }
                }
                tx.commit().await.map_err(db_err(DOING))?;
                Ok(results)
            }
        }

        impl $store {
            /// [`Self::ingest_plans`] in a savepoint of the group's transaction.
            /// The outer `Err` fails the whole group (the database is away); the
            /// inner one is this ingest's own failure, already rolled back.
            async fn ingest_in_savepoint(
                conn: &mut $conn,
                plans: &[&$crate::store::sql::IngestPlan],
            ) -> Result<Result<$crate::store::group::GroupResults, StoreError>, StoreError> {
                const DOING: &str = "ingesting alerts";
                let mut savepoint = sqlx::Connection::begin(conn).await.map_err(db_err(DOING))?;
                match <$store>::ingest_plans(&mut savepoint, plans).await {
                    Ok(done) => {
                        savepoint.commit().await.map_err(db_err(DOING))?;
                        Ok(Ok(done))
                    }
                    Err(error) if error.is_transient() => Err(error),
                    Err(error) => {
                        savepoint.rollback().await.map_err(db_err(DOING))?;
                        Ok(Err(error))
                    }
                }
            }

            /// Inserts the alerts of `plans` on `conn` (inside the caller's
            /// transaction) as if committed one after another, in one
            /// multi-row statement per table and chunk.
            async fn ingest_plans(
                conn: &mut $conn,
                plans: &[&$crate::store::sql::IngestPlan],
            ) -> Result<$crate::store::group::GroupResults, StoreError> {
                use $crate::store::sql::{self as sql, GroupRow, INGEST_CHUNK};
                const DOING: &str = "ingesting alerts";
                let group = sql::IngestGroup::new(plans);
                let mut inserted = std::collections::HashSet::new();
                let mut existing = std::collections::HashMap::new();

                // Insert-or-ignore on (fingerprint, startsAt, status): RETURNING names
                // the rows this transaction created; the rest were already stored.
                for chunk in group.rows.chunks(INGEST_CHUNK) {
                    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(
                        sql::insert_alerts_sql(chunk.len()),
                    ));
                    for GroupRow { plan, row, .. } in chunk {
                        query = query
                            .bind(row.id.as_str())
                            .bind(row.fingerprint.as_str())
                            .bind(row.starts_at.as_str())
                            .bind(row.status)
                            .bind(row.alert_name.as_str())
                            .bind(row.key_alert_name.as_str())
                            .bind(row.key_target.as_str())
                            .bind(row.alert.as_str())
                            .bind(plan.delivery.as_str())
                            .bind(plan.received_at.as_str())
                            .bind(row.incident.as_deref());
                    }
                    let ids: Vec<String> =
                        query.fetch_all(&mut *conn).await.map_err(db_err(DOING))?;
                    inserted.extend(ids);
                }
                let known: Vec<&GroupRow<'_>> =
                    group.rows.iter().filter(|g| !inserted.contains(&g.row.id)).collect();
                for chunk in known.chunks(INGEST_CHUNK) {
                    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql::select_alerts_sql(
                        chunk.len(),
                    )));
                    for GroupRow { row, .. } in chunk {
                        query = query
                            .bind(row.fingerprint.as_str())
                            .bind(row.starts_at.as_str())
                            .bind(row.status);
                    }
                    let rows: Vec<(String, String, String, String, Option<String>)> =
                        query.fetch_all(&mut *conn).await.map_err(db_err(DOING))?;
                    for (fingerprint, starts_at, status, id, incident) in rows {
                        existing.insert((fingerprint, starts_at, status), (id, incident));
                    }
                }
                let opened: Vec<&GroupRow<'_>> = group
                    .rows
                    .iter()
                    .filter(|g| g.row.incident.is_some() && inserted.contains(&g.row.id))
                    .collect();
                for chunk in opened.chunks(INGEST_CHUNK) {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(
                        sql::insert_incidents_sql(chunk.len()),
                    ));
                    for GroupRow { plan, row, .. } in chunk {
                        query = query
                            .bind(row.incident.as_deref())
                            .bind(row.id.as_str())
                            .bind(row.fingerprint.as_str())
                            .bind(row.alert_name.as_str())
                            .bind(row.key_alert_name.as_str())
                            .bind(row.key_target.as_str())
                            .bind(row.labels.as_str())
                            .bind(plan.received_at.as_str());
                    }
                    query.execute(&mut *conn).await.map_err(db_err(DOING))?;
                }
                // A delivery is stored by the batches that brought something new.
                let deliveries = group.deliveries(&inserted);
                for chunk in deliveries.chunks(INGEST_CHUNK) {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(
                        sql::insert_deliveries_sql(chunk.len()),
                    ));
                    for plan in chunk {
                        query = query
                            .bind(plan.delivery.as_str())
                            .bind(plan.received_at.as_str())
                            .bind(plan.raw.as_deref());
                    }
                    query.execute(&mut *conn).await.map_err(db_err(DOING))?;
                }
                Ok((0..plans.len())
                    .map(|p| group.outcome(p, &inserted, &existing))
                    .collect())
            }

            /// Queues `work` to the store's writer (see [`super::group`]).
            async fn write<T, F>(
                &self,
                doing: &'static str,
                durability: $crate::store::group::Durability,
                work: F,
            ) -> Result<T, StoreError>
            where
                T: Send + 'static,
                F: for<'c> FnOnce(
                        &'c mut $conn,
                    ) -> $crate::store::group::BoxFuture<'c, Result<T, StoreError>>
                    + Send
                    + 'static,
            {
                self.writer.write(doing, durability, work).await
            }
        }

        #[async_trait::async_trait]
        impl jarvis_core::ports::Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(db_err("pinging the store"))?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(alerts = batch.items.len()))]
            async fn ingest(&self, batch: &IngestBatch) -> Result<Vec<Ingested>, StoreError> {
                let plan = $crate::store::sql::IngestPlan::new(batch)?;
                self.writer.ingest(plan).await
            }

            async fn alert(&self, id: AlertId) -> Result<StoredAlert, StoreError> {
                let row: Option<AlertRow> =
                    sqlx::query_as(concat!("SELECT ", alert_cols!(), " FROM alerts WHERE id = $1"))
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err("reading an alert"))?;
                row.ok_or_else(|| StoreError::not_found(format_args!("alert {id}")))?
                    .try_into()
            }

            async fn unprocessed_resolutions(
                &self,
                limit: u32,
            ) -> Result<Vec<StoredAlert>, StoreError> {
                let rows: Vec<AlertRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    alert_cols!(),
                    " FROM alerts WHERE status = 'resolved' AND processed_at IS NULL \
                     ORDER BY received_at, id LIMIT $1"
                ))
                .bind(sql_limit(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing unprocessed resolutions"))?;
                convert(rows)
            }

            async fn mark_processed(&self, id: AlertId, at: DateTime<Utc>) -> Result<(), StoreError> {
                const DOING: &str = "marking an alert processed";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        let done = sqlx::query("UPDATE alerts SET processed_at = $2 WHERE id = $1")
                            .bind(id.to_string())
                            .bind(ts(at))
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err("marking an alert processed"))?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::not_found(format_args!("alert {id}")));
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn incident(&self, id: IncidentId) -> Result<Incident, StoreError> {
                let row: Option<IncidentRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    incident_cols!(),
                    " FROM incidents WHERE id = $1"
                ))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err("reading an incident"))?;
                row.ok_or_else(|| incident_not_found(id))?.try_into()
            }

            async fn transition(
                &self,
                id: IncidentId,
                to: IncidentState,
                reason: &str,
                at: DateTime<Utc>,
            ) -> Result<Incident, StoreError> {
                const DOING: &str = "moving an incident";
                let reason = reason.to_owned();
                let durability = if to == IncidentState::Executing {
                    Durability::Durable
                } else {
                    Durability::Crash
                };
                self.write(DOING, durability, move |conn| {
                    boxed(async move {
                        let current: Option<String> = sqlx::query_scalar(concat!(
                            "SELECT state FROM incidents WHERE id = $1",
                            $for_update
                        ))
                        .bind(id.to_string())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?;
                        let current = current.ok_or_else(|| incident_not_found(id))?;
                        let from = IncidentState::parse(&current).ok_or_else(|| {
                            StoreError::Corrupt(format!("bad incident state {current:?}"))
                        })?;
                        if !from.can_move_to(to) {
                            return Err(StoreError::Conflict(format!(
                                "incident {id} cannot move from {from} to {to}"
                            )));
                        }
                        let at = ts(at);
                        let row: IncidentRow = sqlx::query_as(concat!(
                            "UPDATE incidents SET state = $2, reason = $3, updated_at = $4 \
                             WHERE id = $1 RETURNING ",
                            incident_cols!()
                        ))
                        .bind(id.to_string())
                        .bind(to.as_str())
                        .bind(reason.as_str())
                        .bind(at.as_str())
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?;
                        sqlx::query(
                            "INSERT INTO transitions (incident_id, from_state, to_state, reason, at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(id.to_string())
                        .bind(from.as_str())
                        .bind(to.as_str())
                        .bind(reason.as_str())
                        .bind(at.as_str())
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?;
                        row.try_into()
                    })
                })
                .await
            }

            async fn set_root(
                &self,
                id: IncidentId,
                root: Option<IncidentId>,
            ) -> Result<(), StoreError> {
                const DOING: &str = "setting an incident's root";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        if root == Some(id) {
                            return Err(StoreError::Conflict(format!(
                                "incident {id} cannot be its own root"
                            )));
                        }
                        if let Some(root) = root {
                            let exists: Option<i32> = sqlx::query_scalar(concat!(
                                "SELECT 1 FROM incidents WHERE id = $1",
                                $for_update
                            ))
                            .bind(root.to_string())
                            .fetch_optional(&mut *conn)
                            .await
                            .map_err(db_err(DOING))?;
                            if exists.is_none() {
                                return Err(incident_not_found(root));
                            }
                        }
                        let done = sqlx::query("UPDATE incidents SET root_id = $2 WHERE id = $1")
                            .bind(id.to_string())
                            .bind(root.map(|r| r.to_string()))
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err(DOING))?;
                        if done.rows_affected() == 0 {
                            return Err(incident_not_found(id));
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn bump_attempts(&self, id: IncidentId) -> Result<u32, StoreError> {
                const DOING: &str = "counting an attempt";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        let attempts: Option<i64> = sqlx::query_scalar(
                            "UPDATE incidents SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
                        )
                        .bind(id.to_string())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db_err("counting an attempt"))?;
                        let attempts = attempts.ok_or_else(|| incident_not_found(id))?;
                        u32::try_from(attempts)
                            .map_err(|_| StoreError::Corrupt(format!("attempts out of range: {attempts}")))
                    })
                })
                .await
            }

            async fn transitions(&self, id: IncidentId) -> Result<Vec<Transition>, StoreError> {
                let rows: Vec<TransitionRow> = sqlx::query_as(
                    "SELECT incident_id, from_state, to_state, reason, at FROM transitions \
                     WHERE incident_id = $1 ORDER BY at, seq",
                )
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing transitions"))?;
                convert(rows)
            }

            async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
                // Only the filters given go into the statement: `($n IS NULL OR …)`
                // hides the indexes from the planner, which then scans every
                // incident for, say, one fingerprint.
                let sql = $crate::store::sql::incidents_sql(
                    concat!("SELECT ", incident_cols!(), " FROM incidents"),
                    filter,
                );
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                if let Some(state) = filter.state {
                    query = query.bind(state.as_str());
                }
                if let Some(name) = &filter.alert_name {
                    query = query.bind(name.as_str());
                }
                if let Some(since) = filter.since {
                    query = query.bind(ts(since));
                }
                if let Some(fingerprint) = &filter.fingerprint {
                    query = query.bind(fingerprint.as_str());
                }
                let rows: Vec<IncidentRow> = query
                    .bind(sql_limit(filter.limit))
                    .bind(i64::from(filter.offset))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("listing incidents"))?;
                convert(rows)
            }

            async fn in_flight(&self) -> Result<Vec<Incident>, StoreError> {
                static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    format!(
                        concat!(
                            "SELECT ",
                            incident_cols!(),
                            " FROM incidents WHERE state IN ({}) ORDER BY created_at, id"
                        ),
                        state_list(IncidentState::is_in_flight)
                    )
                });
                let rows: Vec<IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("listing in-flight incidents"))?;
                convert(rows)
            }

            async fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
                static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    format!(
                        concat!(
                            "SELECT ",
                            incident_cols!(),
                            " FROM incidents WHERE state IN ({}) ORDER BY created_at, id"
                        ),
                        state_list(|s| !s.is_terminal())
                    )
                });
                let rows: Vec<IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err("listing open incidents"))?;
                convert(rows)
            }

            async fn latest_incident_for(
                &self,
                fingerprint: &Fingerprint,
                since: DateTime<Utc>,
            ) -> Result<Option<Incident>, StoreError> {
                let row: Option<IncidentRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    incident_cols!(),
                    " FROM incidents WHERE fingerprint = $1 AND created_at >= $2 \
                     ORDER BY created_at DESC, id DESC LIMIT 1"
                ))
                .bind(fingerprint.as_str())
                .bind(ts(since))
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err("finding the latest incident"))?;
                row.map(Incident::try_from).transpose()
            }

            async fn claim(
                &self,
                id: IncidentId,
                owner: &str,
                until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                const DOING: &str = "claiming an incident";
                let owner = owner.to_owned();
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        // One conditional UPDATE: the row lock (PostgreSQL) or the write
                        // lock (SQLite) makes racing claims see each other's lease.
                        let took = sqlx::query(
                            "UPDATE incidents SET lease_owner = $2, lease_until = $3 WHERE id = $1 \
                             AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until IS NULL \
                             OR lease_until <= $4)",
                        )
                        .bind(id.to_string())
                        .bind(owner.as_str())
                        .bind(ts(until))
                        .bind(ts(now))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?
                        .rows_affected()
                            == 1;
                        if !took {
                            <$store>::require_incident(&mut *conn, id, DOING).await?;
                        }
                        Ok(took)
                    })
                })
                .await
            }

            async fn release(&self, id: IncidentId, owner: &str) -> Result<(), StoreError> {
                const DOING: &str = "releasing an incident";
                let owner = owner.to_owned();
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        let done = sqlx::query(
                            "UPDATE incidents SET lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id.to_string())
                        .bind(owner.as_str())
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?;
                        if done.rows_affected() == 0 {
                            <$store>::require_incident(&mut *conn, id, DOING).await?;
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn record_attempt(&self, attempt: &Attempt) -> Result<(), StoreError> {
                let attempt = attempt.clone();
                const DOING: &str = "recording an attempt";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        let v = AttemptValues::of(&attempt)?;
                        let done = sqlx::query(
                            "INSERT INTO attempts (id, incident_id, key_alert_name, key_target, tier, \
                             plan, steps, verification, outcome, outcome_detail, llm_calls, input_tokens, \
                             output_tokens, iterations, counts_toward_limit, started_at, finished_at) \
                             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
                             WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $2)",
                        )
                        .bind(v.id)
                        .bind(v.incident_id)
                        .bind(attempt.key.alert_name.as_str())
                        .bind(attempt.key.target.as_str())
                        .bind(v.tier)
                        .bind(v.plan)
                        .bind(v.steps)
                        .bind(v.verification)
                        .bind(v.outcome)
                        .bind(v.outcome_detail)
                        .bind(v.llm_calls)
                        .bind(v.input_tokens)
                        .bind(v.output_tokens)
                        .bind(v.iterations)
                        .bind(attempt.counts_toward_limit)
                        .bind(v.started_at)
                        .bind(v.finished_at)
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("recording an attempt"))?;
                        if done.rows_affected() == 0 {
                            return Err(incident_not_found(attempt.incident));
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn attempts(&self, incident: IncidentId) -> Result<Vec<Attempt>, StoreError> {
                let rows: Vec<AttemptRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    attempt_cols!(),
                    " FROM attempts WHERE incident_id = $1 ORDER BY started_at, id"
                ))
                .bind(incident.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing attempts"))?;
                convert(rows)
            }

            async fn attempts_for_key(
                &self,
                key: &RouteKey,
                since: DateTime<Utc>,
            ) -> Result<Vec<Attempt>, StoreError> {
                let rows: Vec<AttemptRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    attempt_cols!(),
                    " FROM attempts WHERE key_alert_name = $1 AND key_target = $2 \
                     AND cleared_at IS NULL AND started_at >= $3 ORDER BY started_at, id"
                ))
                .bind(key.alert_name.as_str())
                .bind(key.target.as_str())
                .bind(ts(since))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing attempts for a route key"))?;
                convert(rows)
            }

            async fn clear_attempts(&self, key: &RouteKey, at: DateTime<Utc>) -> Result<(), StoreError> {
                let key = key.clone();
                const DOING: &str = "clearing attempts";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "UPDATE attempts SET cleared_at = $3 \
                             WHERE key_alert_name = $1 AND key_target = $2 AND cleared_at IS NULL",
                        )
                        .bind(key.alert_name.as_str())
                        .bind(key.target.as_str())
                        .bind(ts(at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("clearing attempts"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn last_escalation(
                &self,
                key: &RouteKey,
            ) -> Result<Option<DateTime<Utc>>, StoreError> {
                let last: Option<String> = sqlx::query_scalar(
                    "SELECT MAX(at) FROM escalations WHERE key_alert_name = $1 AND key_target = $2",
                )
                .bind(key.alert_name.as_str())
                .bind(key.target.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err("reading the last escalation"))?;
                last.as_deref().map(parse_ts).transpose()
            }

            async fn record_escalation(
                &self,
                key: &RouteKey,
                incident: IncidentId,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let key = key.clone();
                const DOING: &str = "recording an escalation";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO escalations (key_alert_name, key_target, incident_id, at) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(key.alert_name.as_str())
                        .bind(key.target.as_str())
                        .bind(incident.to_string())
                        .bind(ts(at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("recording an escalation"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn patterns(&self) -> Result<Vec<Pattern>, StoreError> {
                let rows: Vec<PatternRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    pattern_cols!(),
                    " FROM patterns ORDER BY created_at, id"
                ))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing patterns"))?;
                convert(rows)
            }

            async fn patterns_for(&self, signature: &str) -> Result<Vec<Pattern>, StoreError> {
                let rows: Vec<PatternRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    pattern_cols!(),
                    " FROM patterns WHERE signature = $1 ORDER BY created_at, id"
                ))
                .bind(signature)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing patterns for a signature"))?;
                convert(rows)
            }

            async fn pattern(&self, id: PatternId) -> Result<Pattern, StoreError> {
                let row: Option<PatternRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    pattern_cols!(),
                    " FROM patterns WHERE id = $1"
                ))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err("reading a pattern"))?;
                row.ok_or_else(|| StoreError::not_found(format_args!("pattern {id}")))?
                    .try_into()
            }

            async fn save_pattern(&self, pattern: &Pattern) -> Result<(), StoreError> {
                let pattern = pattern.clone();
                const DOING: &str = "saving a pattern";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        // The unique (signature, plan_signature) index turns a second
                        // pattern for the same plan into a unique violation: Conflict.
                        sqlx::query(
                            "INSERT INTO patterns (id, signature, plan_signature, alert_name, symptom, \
                             steps, successes, failures, source, created_at, last_used) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                             ON CONFLICT (id) DO UPDATE SET signature = excluded.signature, \
                             plan_signature = excluded.plan_signature, alert_name = excluded.alert_name, \
                             symptom = excluded.symptom, steps = excluded.steps, \
                             successes = excluded.successes, failures = excluded.failures, \
                             source = excluded.source, created_at = excluded.created_at, \
                             last_used = excluded.last_used",
                        )
                        .bind(pattern.id.to_string())
                        .bind(pattern.signature.as_str())
                        .bind(steps_signature(&pattern.steps))
                        .bind(pattern.alert_name.as_str())
                        .bind(to_json(&pattern.symptom, "symptom")?)
                        .bind(to_json(&pattern.steps, "steps")?)
                        .bind(i64::from(pattern.successes))
                        .bind(i64::from(pattern.failures))
                        .bind(pattern.source.as_str())
                        .bind(ts(pattern.created_at))
                        .bind(opt_ts(pattern.last_used))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("saving a pattern"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn delete_pattern(&self, id: PatternId) -> Result<(), StoreError> {
                const DOING: &str = "deleting a pattern";
                self.write(DOING, Durability::Durable, move |conn| {
                    boxed(async move {
                        let done = sqlx::query("DELETE FROM patterns WHERE id = $1")
                            .bind(id.to_string())
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err("deleting a pattern"))?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::not_found(format_args!("pattern {id}")));
                        }
                        Ok(())
                    })
                })
                .await
            }

            async fn record_failure(&self, failure: &FailurePattern) -> Result<(), StoreError> {
                let failure = failure.clone();
                const DOING: &str = "recording a failed plan";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO failure_patterns (signature, plan_signature, summary, failures, \
                             reason, last_failed_at) VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (signature, plan_signature) DO UPDATE SET \
                             failures = failure_patterns.failures + excluded.failures, \
                             summary = excluded.summary, reason = excluded.reason, \
                             last_failed_at = CASE WHEN excluded.last_failed_at > failure_patterns.last_failed_at \
                             THEN excluded.last_failed_at ELSE failure_patterns.last_failed_at END",
                        )
                        .bind(failure.signature.as_str())
                        .bind(failure.plan_signature.as_str())
                        .bind(to_json(&failure.summary, "summary")?)
                        .bind(i64::from(failure.failures))
                        .bind(failure.reason.as_str())
                        .bind(ts(failure.last_failed_at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("recording a failed plan"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn failures_for(
                &self,
                signature: &str,
                since: DateTime<Utc>,
            ) -> Result<Vec<FailurePattern>, StoreError> {
                let rows: Vec<FailureRow> = sqlx::query_as(
                    "SELECT signature, plan_signature, summary, failures, reason, last_failed_at \
                     FROM failure_patterns WHERE signature = $1 AND last_failed_at >= $2 \
                     ORDER BY last_failed_at, plan_signature",
                )
                .bind(signature)
                .bind(ts(since))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing failed plans"))?;
                convert(rows)
            }

            async fn save_maintenance(&self, window: &MaintenanceWindow) -> Result<(), StoreError> {
                let window = window.clone();
                const DOING: &str = "saving a maintenance window";
                self.write(DOING, Durability::Durable, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO maintenance_windows (id, scope, reason, created_by, \
                             starts_at, ends_at, ended_at, silence_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                             ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, \
                             reason = excluded.reason, created_by = excluded.created_by, \
                             starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
                             ended_at = excluded.ended_at, silence_id = excluded.silence_id",
                        )
                        .bind(window.id.to_string())
                        .bind(to_json(&window.scope, "scope")?)
                        .bind(window.reason.as_str())
                        .bind(window.created_by.as_str())
                        .bind(ts(window.starts_at))
                        .bind(ts(window.ends_at))
                        .bind(opt_ts(window.ended_at))
                        .bind(window.silence_id.as_deref())
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err(DOING))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn maintenance_windows(
                &self,
                now: DateTime<Utc>,
            ) -> Result<Vec<MaintenanceWindow>, StoreError> {
                let rows: Vec<MaintenanceRow> = sqlx::query_as(
                    "SELECT id, scope, reason, created_by, starts_at, ends_at, ended_at, \
                     silence_id FROM maintenance_windows WHERE ends_at > $1 \
                     AND (ended_at IS NULL OR ended_at > $1) ORDER BY starts_at, id",
                )
                .bind(ts(now))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing maintenance windows"))?;
                convert(rows)
            }

            async fn save_approval(&self, approval: &Approval) -> Result<(), StoreError> {
                let approval = approval.clone();
                const DOING: &str = "saving an approval";
                self.write(DOING, Durability::Durable, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO approvals (id, incident_id, step, rule, reason, status, \
                             requested_at, expires_at, decided_by, decided_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                             ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, \
                             step = excluded.step, rule = excluded.rule, reason = excluded.reason, \
                             status = excluded.status, requested_at = excluded.requested_at, \
                             expires_at = excluded.expires_at, decided_by = excluded.decided_by, \
                             decided_at = excluded.decided_at",
                        )
                        .bind(approval.id.to_string())
                        .bind(approval.incident.to_string())
                        .bind(to_json(&approval.step, "step")?)
                        .bind(approval.rule.as_str())
                        .bind(approval.reason.as_str())
                        .bind(approval.status.as_str())
                        .bind(ts(approval.requested_at))
                        .bind(ts(approval.expires_at))
                        .bind(approval.decided_by.as_deref())
                        .bind(opt_ts(approval.decided_at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("saving an approval"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn approval(&self, id: ApprovalId) -> Result<Approval, StoreError> {
                let row: Option<ApprovalRow> = sqlx::query_as(
                    "SELECT id, incident_id, step, rule, reason, status, requested_at, \
                     expires_at, decided_by, decided_at FROM approvals WHERE id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err("reading an approval"))?;
                row.ok_or_else(|| StoreError::not_found(format_args!("approval {id}")))?
                    .try_into()
            }

            async fn approvals(
                &self,
                status: Option<ApprovalStatus>,
            ) -> Result<Vec<Approval>, StoreError> {
                let rows: Vec<ApprovalRow> = sqlx::query_as(
                    "SELECT id, incident_id, step, rule, reason, status, requested_at, \
                     expires_at, decided_by, decided_at FROM approvals \
                     WHERE ($1 IS NULL OR status = $1) ORDER BY requested_at, id",
                )
                .bind(status.map(|s| s.as_str()))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing approvals"))?;
                convert(rows)
            }

            async fn record_host_status(&self, status: &HostStatus) -> Result<(), StoreError> {
                let status = status.clone();
                const DOING: &str = "recording a host status";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query("INSERT INTO host_status (host, online, reason, at) VALUES ($1, $2, $3, $4)")
                            .bind(status.host.as_str())
                            .bind(status.online)
                            .bind(status.reason.as_str())
                            .bind(ts(status.at))
                            .execute(&mut *conn)
                            .await
                            .map_err(db_err("recording a host status"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn host_statuses(&self) -> Result<Vec<HostStatus>, StoreError> {
                let rows: Vec<HostStatusRow> = sqlx::query_as(
                    "SELECT h.host, h.online, h.reason, h.at FROM host_status h \
                     WHERE h.seq = (SELECT l.seq FROM host_status l WHERE l.host = h.host \
                     ORDER BY l.at DESC, l.seq DESC LIMIT 1) ORDER BY h.host",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing host statuses"))?;
                convert(rows)
            }

            async fn save_handoff(&self, handoff: &Handoff) -> Result<(), StoreError> {
                let handoff = handoff.clone();
                const DOING: &str = "saving a hand-off";
                self.write(DOING, Durability::Durable, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO handoffs (id, target, incident_id, state, reason, created_at, \
                             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (id) DO UPDATE SET target = excluded.target, \
                             incident_id = excluded.incident_id, state = excluded.state, \
                             reason = excluded.reason, created_at = excluded.created_at, \
                             updated_at = excluded.updated_at",
                        )
                        .bind(handoff.id.to_string())
                        .bind(handoff.target.as_str())
                        .bind(handoff.incident.map(|i| i.to_string()))
                        .bind(handoff.state.as_str())
                        .bind(handoff.reason.as_str())
                        .bind(ts(handoff.created_at))
                        .bind(ts(handoff.updated_at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("saving a hand-off"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn handoff(&self, id: HandoffId) -> Result<Handoff, StoreError> {
                let row: Option<HandoffRow> = sqlx::query_as(
                    "SELECT id, target, incident_id, state, reason, created_at, updated_at \
                     FROM handoffs WHERE id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err("reading a hand-off"))?;
                row.ok_or_else(|| StoreError::not_found(format_args!("hand-off {id}")))?
                    .try_into()
            }

            async fn handoffs(&self, state: Option<HandoffState>) -> Result<Vec<Handoff>, StoreError> {
                let rows: Vec<HandoffRow> = sqlx::query_as(
                    "SELECT id, target, incident_id, state, reason, created_at, updated_at \
                     FROM handoffs WHERE ($1 IS NULL OR state = $1) ORDER BY created_at, id",
                )
                .bind(state.map(|s| s.as_str()))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing hand-offs"))?;
                convert(rows)
            }

            async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
                let snapshot = snapshot.clone();
                const DOING: &str = "saving a snapshot";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO snapshots (incident_id, host, label, content, at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(snapshot.incident.to_string())
                        .bind(snapshot.host.as_str())
                        .bind(snapshot.label.as_str())
                        .bind(snapshot.content.as_str())
                        .bind(ts(snapshot.at))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("saving a snapshot"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn snapshots(&self, incident: IncidentId) -> Result<Vec<Snapshot>, StoreError> {
                let rows: Vec<SnapshotRow> = sqlx::query_as(
                    "SELECT incident_id, host, label, content, at FROM snapshots \
                     WHERE incident_id = $1 ORDER BY at, seq",
                )
                .bind(incident.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing snapshots"))?;
                convert(rows)
            }

            async fn record_anomaly(&self, anomaly: &AnomalyRecord) -> Result<(), StoreError> {
                let anomaly = anomaly.clone();
                const DOING: &str = "recording an anomaly";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO anomalies (series, value, mean, z_score, at, alert_fingerprint) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(anomaly.series.as_str())
                        .bind(anomaly.value)
                        .bind(anomaly.mean)
                        .bind(anomaly.z_score)
                        .bind(ts(anomaly.at))
                        .bind(anomaly.alert_fingerprint.as_deref())
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("recording an anomaly"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn anomalies(&self, since: DateTime<Utc>) -> Result<Vec<AnomalyRecord>, StoreError> {
                let rows: Vec<AnomalyRow> = sqlx::query_as(
                    "SELECT series, value, mean, z_score, at, alert_fingerprint FROM anomalies \
                     WHERE at >= $1 ORDER BY at, seq",
                )
                .bind(ts(since))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing anomalies"))?;
                convert(rows)
            }

            async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
                let entry = entry.clone();
                const DOING: &str = "appending to the audit log";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO audit_log (at, incident_id, action, host, decision, rule, reason, \
                             executed, exit_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(ts(entry.at))
                        .bind(entry.incident.map(|i| i.to_string()))
                        .bind(entry.action.as_str())
                        .bind(entry.host.as_deref())
                        .bind(entry.decision.as_str())
                        .bind(entry.rule.as_str())
                        .bind(entry.reason.as_str())
                        .bind(entry.executed)
                        .bind(entry.exit_code.map(i64::from))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("appending to the audit log"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn audit_log(
                &self,
                incident: Option<IncidentId>,
                limit: u32,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "SELECT at, incident_id, action, host, decision, rule, reason, executed, \
                     exit_code FROM audit_log WHERE ($1 IS NULL OR incident_id = $1) \
                     ORDER BY at DESC, seq DESC LIMIT $2",
                )
                .bind(incident.map(|i| i.to_string()))
                .bind(sql_limit(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("reading the audit log"))?;
                convert(rows)
            }

            async fn record_notice(&self, record: &NoticeRecord) -> Result<(), StoreError> {
                let record = record.clone();
                const DOING: &str = "recording a notice";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        sqlx::query(
                            "INSERT INTO notices (incident_id, kind, at, notice, delivered, error) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(record.notice.incident.map(|i| i.to_string()))
                        .bind(record.notice.kind.as_str())
                        .bind(ts(record.notice.at))
                        .bind(to_json(&record.notice, "notice")?)
                        .bind(record.delivered)
                        .bind(record.error.as_deref())
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err("recording a notice"))?;
                        Ok(())
                    })
                })
                .await
            }

            async fn notices(&self, incident: IncidentId) -> Result<Vec<NoticeRecord>, StoreError> {
                let rows: Vec<NoticeRow> = sqlx::query_as(
                    "SELECT notice, delivered, error FROM notices WHERE incident_id = $1 \
                     ORDER BY at, seq",
                )
                .bind(incident.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err("listing notices"))?;
                convert(rows)
            }

            #[tracing::instrument(skip_all, fields(before = %before))]
            async fn prune(&self, before: DateTime<Utc>) -> Result<PruneReport, StoreError> {
                const DOING: &str = "pruning old records";
                self.write(DOING, Durability::Crash, move |conn| {
                    boxed(async move {
                        static PRUNABLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                            format!(
                                "SELECT id FROM incidents WHERE state IN ({}) AND updated_at < $1",
                                state_list(IncidentState::is_terminal)
                            )
                        });
                        let before = ts(before);
                        let mut delete = async |sql: String| -> Result<u64, StoreError> {
                            Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
                                .bind(before.as_str())
                                .execute(&mut *conn)
                                .await
                                .map_err(db_err(DOING))?
                                .rows_affected())
                        };
                        let mut report = PruneReport::default();
                        for table in ["transitions", "snapshots", "approvals"] {
                            delete(format!(
                                "DELETE FROM {table} WHERE incident_id IN ({})",
                                *PRUNABLE
                            ))
                            .await?;
                        }
                        report.attempts = delete(format!(
                            "DELETE FROM attempts WHERE incident_id IN ({})",
                            *PRUNABLE
                        ))
                        .await?;
                        report.incidents =
                            delete(format!("DELETE FROM incidents WHERE id IN ({})", *PRUNABLE)).await?;
                        // Notices live as long as their incident; loose ones by age.
                        report.notices = delete(
                            "DELETE FROM notices WHERE (incident_id IS NULL AND at < $1) \
                             OR (incident_id IS NOT NULL AND NOT EXISTS \
                             (SELECT 1 FROM incidents i WHERE i.id = notices.incident_id))"
                                .to_string(),
                        )
                        .await?;
                        report.audit = delete("DELETE FROM audit_log WHERE at < $1".to_string()).await?;
                        // An alert goes once it is old and done with: processed, or its incident is gone.
                        report.alerts = delete(
                            "DELETE FROM alerts WHERE received_at < $1 AND \
                             ((incident_id IS NULL AND processed_at IS NOT NULL) \
                             OR (incident_id IS NOT NULL AND NOT EXISTS \
                             (SELECT 1 FROM incidents i WHERE i.id = alerts.incident_id)))"
                                .to_string(),
                        )
                        .await?;
                        delete(
                            "DELETE FROM deliveries WHERE received_at < $1 AND NOT EXISTS \
                             (SELECT 1 FROM alerts a WHERE a.delivery_id = deliveries.id)"
                                .to_string(),
                        )
                        .await?;
                        tracing::debug!(?report, "pruned");
                        Ok(report)
                    })
                })
                .await
            }
        }

        impl $store {
            /// `NotFound` unless the incident exists.
            async fn require_incident(
                conn: &mut $conn,
                id: IncidentId,
                doing: &'static str,
            ) -> Result<(), StoreError> {
                let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM incidents WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err(doing))?;
                exists.map(|_| ()).ok_or_else(|| incident_not_found(id))
            }
        }
    };
}

pub(crate) use impl_sql_store;

use std::collections::{BTreeMap, HashMap, HashSet};

use jarvis_core::domain::{AlertId, IncidentId, IngestBatch, Ingested};
use jarvis_core::error::StoreError;

use super::rows::{to_json, ts};

/// Rows per multi-row statement in `ingest`; keeps every statement far below
/// both databases' bound-parameter limits.
pub(crate) const INGEST_CHUNK: usize = 200;

/// One distinct alert of a batch, encoded for insertion.
pub(crate) struct AlertInsert {
    pub id: String,
    pub fingerprint: String,
    pub starts_at: String,
    pub status: &'static str,
    pub alert_name: String,
    pub key_alert_name: String,
    pub key_target: String,
    pub alert: String,
    /// The incident a firing alert opens if it is new.
    pub incident: Option<String>,
    pub labels: String,
}

impl AlertInsert {
    fn key(&self) -> (&str, &str, &str) {
        (&self.fingerprint, &self.starts_at, self.status)
    }
}

/// A batch prepared for `ingest`, owning everything the writer needs: its
/// distinct alerts in key order, and where each item of the batch landed.
pub(crate) struct IngestPlan {
    pub rows: Vec<AlertInsert>,
    /// Per batch item: its row, and whether it is that row's first mention.
    slots: Vec<(usize, bool)>,
    pub received_at: String,
    pub delivery: String,
    pub raw: Option<String>,
}

type AlertKey = (String, String, String);

impl IngestPlan {
    pub fn new(batch: &IngestBatch) -> Result<Self, StoreError> {
        let mut order: Vec<usize> = (0..batch.items.len()).collect();
        let key = |i: usize| {
            let alert = &batch.items[i].alert;
            (
                alert.fingerprint.as_str(),
                alert.starts_at,
                alert.status.as_str(),
            )
        };
        order.sort_by_key(|&i| key(i));
        let mut rows: Vec<AlertInsert> = Vec::with_capacity(order.len());
        let mut slots = vec![(0, false); order.len()];
        for i in order {
            let item = &batch.items[i];
            let alert = &item.alert;
            let starts_at = ts(alert.starts_at);
            if let Some(last) = rows.last()
                && last.fingerprint == alert.fingerprint.as_str()
                && last.starts_at == starts_at
                && last.status == alert.status.as_str()
            {
                slots[i] = (rows.len() - 1, false);
                continue;
            }
            slots[i] = (rows.len(), true);
            rows.push(AlertInsert {
                id: AlertId::new().to_string(),
                fingerprint: alert.fingerprint.as_str().to_string(),
                starts_at,
                status: alert.status.as_str(),
                alert_name: alert.name().to_string(),
                key_alert_name: item.key.alert_name.clone(),
                key_target: item.key.target.clone(),
                alert: to_json(alert, "alert")?,
                incident: alert.is_firing().then(|| IncidentId::new().to_string()),
                labels: to_json(&alert.labels, "labels")?,
            });
        }
        Ok(IngestPlan {
            rows,
            slots,
            received_at: ts(batch.received_at),
            delivery: uuid::Uuid::now_v7().to_string(),
            raw: batch.raw.clone(),
        })
    }
}

/// One distinct alert of a group and the plan that inserts it if it is new:
/// the first plan of the group that mentions it, as if the plans were
/// committed one after another.
pub(crate) struct GroupRow<'p> {
    pub owner: usize,
    pub plan: &'p IngestPlan,
    pub row: &'p AlertInsert,
}

/// Plans committed together: their distinct alerts in key order (so racing
/// transactions lock rows in the same order and cannot deadlock), and for
/// each plan's row, the group row it became.
pub(crate) struct IngestGroup<'p> {
    pub rows: Vec<GroupRow<'p>>,
    plans: Vec<&'p IngestPlan>,
    links: Vec<Vec<usize>>,
}

impl<'p> IngestGroup<'p> {
    pub fn new(plans: &[&'p IngestPlan]) -> Self {
        let mut first: BTreeMap<(&'p str, &'p str, &'p str), (usize, usize)> = BTreeMap::new();
        for (p, plan) in plans.iter().enumerate() {
            for (r, row) in plan.rows.iter().enumerate() {
                first.entry(row.key()).or_insert((p, r));
            }
        }
        let index: HashMap<(&str, &str, &str), usize> =
            first.keys().enumerate().map(|(g, &key)| (key, g)).collect();
        let links = plans
            .iter()
            .map(|plan| plan.rows.iter().map(|row| index[&row.key()]).collect())
            .collect();
        let rows = first
            .into_values()
            .map(|(p, r)| GroupRow {
                owner: p,
                plan: plans[p],
                row: &plans[p].rows[r],
            })
            .collect();
        IngestGroup {
            rows,
            plans: plans.to_vec(),
            links,
        }
    }

    /// The plans that inserted at least one alert: each stores its delivery.
    pub fn deliveries(&self, inserted: &HashSet<String>) -> Vec<&'p IngestPlan> {
        let mut owners: Vec<(usize, &'p IngestPlan)> = self
            .rows
            .iter()
            .filter(|g| inserted.contains(&g.row.id))
            .map(|g| (g.owner, g.plan))
            .collect();
        owners.sort_by_key(|&(p, _)| p);
        owners.dedup_by_key(|&mut (p, _)| p);
        owners.into_iter().map(|(_, plan)| plan).collect()
    }

    /// What happened to each item of plan `p`, in batch order.
    pub fn outcome(
        &self,
        p: usize,
        inserted: &HashSet<String>,
        existing: &HashMap<AlertKey, (String, Option<String>)>,
    ) -> Result<Vec<Ingested>, StoreError> {
        let parse = |s: &str| -> Result<uuid::Uuid, StoreError> {
            s.parse()
                .map_err(|e| StoreError::Corrupt(format!("bad id {s:?}: {e}")))
        };
        let links = &self.links[p];
        let slots = &self.plans[p].slots;
        let mut out = Vec::with_capacity(slots.len());
        for &(index, first) in slots {
            let group = &self.rows[links[index]];
            let row = group.row;
            if inserted.contains(&row.id) {
                out.push(Ingested {
                    alert: AlertId(parse(&row.id)?),
                    new: first && group.owner == p,
                    incident: row
                        .incident
                        .as_deref()
                        .map(parse)
                        .transpose()?
                        .map(IncidentId),
                });
                continue;
            }
            let key = (
                row.fingerprint.clone(),
                row.starts_at.clone(),
                row.status.to_string(),
            );
            let (id, incident) = existing.get(&key).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "alert {} at {} was neither inserted nor found",
                    row.fingerprint, row.starts_at
                ))
            })?;
            out.push(Ingested {
                alert: AlertId(parse(id)?),
                new: false,
                incident: incident.as_deref().map(parse).transpose()?.map(IncidentId),
            });
        }
        Ok(out)
    }
}

/// Eleven values per alert, in column order.
pub(crate) fn insert_alerts_sql(rows: usize) -> String {
    format!(
        "INSERT INTO alerts (id, fingerprint, starts_at, status, alert_name, key_alert_name, \
         key_target, alert, delivery_id, received_at, incident_id) VALUES {} \
         ON CONFLICT (fingerprint, starts_at, status) DO NOTHING RETURNING id",
        values(rows, 11, |p| p.join(", "))
    )
}

/// Three key values per alert.
pub(crate) fn select_alerts_sql(rows: usize) -> String {
    let keys: Vec<String> = (0..rows)
        .map(|r| {
            format!(
                "(fingerprint = ${} AND starts_at = ${} AND status = ${})",
                r * 3 + 1,
                r * 3 + 2,
                r * 3 + 3
            )
        })
        .collect();
    format!(
        "SELECT fingerprint, starts_at, status, id, incident_id FROM alerts WHERE {}",
        keys.join(" OR ")
    )
}

/// Eight values per incident; the eighth (received at) is both created and updated.
pub(crate) fn insert_incidents_sql(rows: usize) -> String {
    format!(
        "INSERT INTO incidents (id, alert_id, fingerprint, alert_name, key_alert_name, \
         key_target, labels, created_at, updated_at, state, reason, attempts) VALUES {}",
        values(rows, 8, |p| format!(
            "{}, {}, 'received', '', 0",
            p.join(", "),
            p[7]
        ))
    )
}

/// Three values per delivery: id, received at, raw payload.
pub(crate) fn insert_deliveries_sql(rows: usize) -> String {
    format!(
        "INSERT INTO deliveries (id, received_at, raw) VALUES {}",
        values(rows, 3, |p| p.join(", "))
    )
}

/// `(…), (…)`: `rows` tuples of `width` consecutive placeholders from `$1`,
/// each written by `tuple`.
fn values(rows: usize, width: usize, tuple: impl Fn(&[String]) -> String) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|k| format!("${}", r * width + k)).collect();
            format!("({})", tuple(&params))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `select` with the conditions of `filter` that are set, in the order
/// state, alert name, since, fingerprint (`$1`…), then limit and offset.
pub(crate) fn incidents_sql(select: &str, filter: &jarvis_core::domain::IncidentFilter) -> String {
    let mut conditions = Vec::new();
    let mut n = 0;
    let mut add = |column: &str, op: &str| {
        n += 1;
        conditions.push(format!("{column} {op} ${n}"));
    };
    if filter.state.is_some() {
        add("state", "=");
    }
    if filter.alert_name.is_some() {
        add("alert_name", "=");
    }
    if filter.since.is_some() {
        add("created_at", ">=");
    }
    if filter.fingerprint.is_some() {
        add("fingerprint", "=");
    }
    let filters = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    format!(
        "{select}{filters} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    )
}

pub(crate) fn incident_not_found(id: IncidentId) -> StoreError {
    StoreError::not_found(format_args!("incident {id}"))
}

/// `0` means "no limit", as in the in-memory reference store.
pub(crate) fn sql_limit(limit: u32) -> i64 {
    if limit == 0 {
        i64::MAX
    } else {
        i64::from(limit)
    }
}
