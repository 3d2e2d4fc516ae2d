//! `/api/v1/articles`: news stories. The operations (the `#[OpenApi]` impl) live
//! here; the response objects in [`views`], the responses with their headers and
//! errors in [`responses`], and what the write operations share in [`edit`].

mod edit;
mod responses;
mod views;

use self::edit::{apply, check_if_match, made_slugs, saved};
pub(crate) use self::views::{need, public_url, view};
pub use edit::IfMatch;
pub use responses::{
    ArticleCreated, ArticleDeleteError, ArticleRead, ArticleReadError, ArticleSaved,
    ArticleWriteError, RevisionListError, TrashError,
};
pub use views::{Article, ArticleList, Revision, RevisionList, TrashList, TrashedArticle};

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::types::MaybeUndefined;
use uuid::Uuid;

use super::body::JsonBody;
use super::fields::{Picked, Selection};
use super::found::Found;
use super::publishers::Deleted;
use super::{
    ApiTags, AppState, BearerAuth, CreateError, ListError, ListMeta, MaybeAuth, page_params,
    require, visibility,
};
use crate::auth::Viewer;
use crate::auth::policy::{self, Action, Scope, Target, scope};
use crate::content::articles::{
    self, Actor, ArticleCreate, ArticleUpdate, Filter, Include, Lookup, Sort, Status,
};
use crate::content::search::terms as search_terms;
use crate::content::slug::Made;
use crate::content::workflow;
use crate::error::ApiError;

pub struct ArticlesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Articles")]
impl ArticlesApi {
    /// List articles
    ///
    /// Anonymous readers get published articles whose `published_at` has passed;
    /// authors and contributors also get their own (their author in the byline) in every
    /// status; editors and admins get every status. Filters combine with AND.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/articles", method = "get", operation_id = "listArticles")]
    async fn list(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeAuth,
        /// Only this status (as readers see it: a scheduled article whose time has passed is `published`).
        status: Query<Option<Status>>,
        /// Only articles carried by this publisher (id or slug).
        #[oai(validator(max_length = 80))]
        publisher: Query<Option<String>>,
        /// Only articles with this author in the byline (id or slug).
        #[oai(validator(max_length = 80))]
        author: Query<Option<String>>,
        /// Only articles with this tag (id or slug).
        #[oai(validator(max_length = 80))]
        tag: Query<Option<String>>,
        /// Full-text search: every word must start a word of the title, subtitle, excerpt or body
        /// (case-insensitive; `heat pump` finds "Heat pumps"). Punctuation separates words.
        #[oai(validator(max_length = 200))]
        q: Query<Option<String>>,
        /// Only articles published at or after this time (RFC 3339).
        published_after: Query<Option<DateTime<Utc>>>,
        /// Only articles published before this time (RFC 3339).
        published_before: Query<Option<DateTime<Utc>>>,
        /// The order: `published_at`, `-published_at` (default, newest first), `title`, `-title`,
        /// `updated_at`, `-updated_at`. Articles without `published_at` come last.
        sort: Query<Option<Sort>>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
        /// Related objects to embed, comma-separated: `authors`, `publisher`, `syndicated_from`, `tags`.
        #[oai(validator(max_length = 100))]
        include: Query<Option<String>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        /// Relations `include` names come whatever `fields` says.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
        /// Only these fields of the embedded `authors`, comma-separated (`id` always comes);
        /// ignored unless `include` names `authors`.
        #[oai(name = "fields[authors]", validator(max_length = 512))]
        fields_authors: Query<Option<String>>,
        /// Only these fields of the embedded `publisher` and `syndicated_from`, comma-separated
        /// (`id` always comes); ignored unless `include` names either.
        #[oai(name = "fields[publishers]", validator(max_length = 512))]
        fields_publishers: Query<Option<String>>,
        /// Only these fields of the embedded `tags`, comma-separated (`id` always comes);
        /// ignored unless `include` names `tags`.
        #[oai(name = "fields[tags]", validator(max_length = 512))]
        fields_tags: Query<Option<String>>,
    ) -> Result<Picked<ArticleList>, ListError> {
        let viewer = Viewer::from_request(req, auth).await?;
        let include = Include::parse(include.0.as_deref())?;
        let fields = Selection::parse(fields.0.as_deref(), Article::FIELDS)?.with_relations([
            fields_authors.0.as_deref(),
            fields_publishers.0.as_deref(),
            fields_tags.0.as_deref(),
        ])?;
        let q = q.0.unwrap_or_default();
        let terms = search_terms(&q);
        if terms.is_empty() && !q.trim().is_empty() {
            return Err(
                ApiError::bad_request("q", "must contain at least one letter or digit").into(),
            );
        }
        let filter = Filter {
            status: status.0,
            publisher: publisher.0,
            author: author.0,
            tag: tag.0,
            q: terms,
            published_after: published_after.0,
            published_before: published_before.0,
            sort: sort.0.unwrap_or_default(),
        };
        let params = page_params(limit.0, cursor.0, count.0);
        let at = state.clock.now();
        let (page, related) = articles::list(
            state.db_for(&viewer),
            &filter,
            &params,
            include,
            need(&fields),
            visibility(&viewer),
            at,
        )
        .await?;
        Ok(Picked(
            ArticleList {
                meta: ListMeta::of(&page, params.limit),
                data: page
                    .items
                    .into_iter()
                    .map(|r| view(r, &related, include, &state.site, at))
                    .collect(),
            },
            fields,
        ))
    }

    /// Get an article
    ///
    /// By id or slug. Anonymous readers get it only once it is public, authors and
    /// contributors also their own in every status, editors and admins every article;
    /// otherwise 404. A slug the article used to have answers 301 to its current address.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "get",
        operation_id = "getArticle"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as poem-openapi wants
    async fn get(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeAuth,
        /// The article's id or slug.
        #[oai(example = "crate::api::examples::article_slug")]
        id_or_slug: Path<String>,
        /// Related objects to embed, comma-separated: `authors`, `publisher`, `syndicated_from`, `tags`.
        #[oai(validator(max_length = 100))]
        include: Query<Option<String>>,
        /// Only these fields, comma-separated (`id` always comes); absent, every field.
        /// Relations `include` names come whatever `fields` says.
        #[oai(validator(max_length = 512))]
        fields: Query<Option<String>>,
        /// Only these fields of the embedded `authors`, comma-separated (`id` always comes);
        /// ignored unless `include` names `authors`.
        #[oai(name = "fields[authors]", validator(max_length = 512))]
        fields_authors: Query<Option<String>>,
        /// Only these fields of the embedded `publisher` and `syndicated_from`, comma-separated
        /// (`id` always comes); ignored unless `include` names either.
        #[oai(name = "fields[publishers]", validator(max_length = 512))]
        fields_publishers: Query<Option<String>>,
        /// Only these fields of the embedded `tags`, comma-separated (`id` always comes);
        /// ignored unless `include` names `tags`.
        #[oai(name = "fields[tags]", validator(max_length = 512))]
        fields_tags: Query<Option<String>>,
    ) -> Result<ArticleRead, ArticleReadError> {
        let viewer = Viewer::from_request(req, auth).await?;
        let include = Include::parse(include.0.as_deref())?;
        let fields = Selection::parse(fields.0.as_deref(), Article::FIELDS)?.with_relations([
            fields_authors.0.as_deref(),
            fields_publishers.0.as_deref(),
            fields_tags.0.as_deref(),
        ])?;
        let at = state.clock.now();
        let key = &id_or_slug.0;
        match articles::get(
            state.db_for(&viewer),
            key,
            include,
            need(&fields),
            visibility(&viewer),
            at,
        )
        .await?
        {
            Lookup::Found(found) => {
                let (record, related) = *found;
                Ok(ArticleRead::Ok(
                    Box::new(view(record, &related, include, &state.site, at)),
                    fields,
                ))
            }
            Lookup::Moved(slug) => {
                let query = req
                    .uri()
                    .query()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                Ok(ArticleRead::Moved(format!(
                    "/api/v1/articles/{slug}{query}"
                )))
            }
        }
    }

    /// Create an article
    ///
    /// Contributors create drafts, authors any status, both only with their own author in
    /// the byline (an empty `author_ids` means just theirs); editors and admins anything.
    /// The body is rendered from Markdown and sanitised; the slug is made from the title
    /// when absent; the excerpt is derived from the body when absent. Revision 1 records it.
    #[oai(path = "/articles", method = "post", operation_id = "createArticle")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<ArticleCreate>,
    ) -> Result<ArticleCreated, CreateError> {
        let principal = &auth.0;
        let mut input = body.0;
        if input.author_ids.is_empty()
            && matches!(
                scope(principal.grant, Action::CreateArticle),
                Scope::Own | Scope::OwnDrafts
            )
            && let Some(mine) = principal.author_id()
        {
            input.author_ids = vec![mine];
        }
        let status = input.status.unwrap_or(Status::Draft);
        let target = Target::article(principal, &input.author_ids, status == Status::Draft);
        policy::decide(principal, Action::CreateArticle, Some(target))?;
        if status != Status::Draft {
            policy::decide(principal, Action::PublishArticle, Some(target))?;
        }
        if input.slug.is_some() {
            policy::decide(principal, Action::ChooseSlug, None)?;
        }
        let actor = Actor {
            user_id: principal.user_id(),
            at: state.clock.now(),
            slugs: made_slugs(principal),
        };
        let record = articles::create(&state.db, input, &actor).await?;
        let ArticleSaved(article) = saved(&state, record, actor.at).await?;
        Ok(ArticleCreated(article))
    }

    /// Update an article
    ///
    /// Contributors edit their own drafts, authors their own articles, editors and admins
    /// every article; changing `status` needs the right to publish (authors: their own),
    /// and must be a legal change (e.g. a draft cannot be archived). Only the fields sent
    /// change; `author_ids` and `tag_ids` replace the whole list. `version` goes up by one,
    /// and the change is kept as a revision. Send `If-Match` with the `ETag` (or `version`)
    /// you read to be refused with 412 rather than overwrite someone else's change. A new
    /// slug keeps the old one working as a redirect.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "patch",
        operation_id = "updateArticle"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        #[oai(example = "crate::api::examples::article_slug")]
        id_or_slug: Path<String>,
        /// The `ETag` (or the quoted `version`) the change is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<ArticleUpdate>,
    ) -> Result<ArticleSaved, ArticleWriteError> {
        let input = body.0;
        Ok(apply(
            &state,
            &auth.0,
            &id_or_slug.0,
            if_match.0.as_deref(),
            |_, _| Ok(input.clone()),
            "update",
        )
        .await?)
    }

    /// Delete an article
    ///
    /// Moves it to the trash: it disappears everywhere, and an editor can restore it for
    /// the configured number of days (30 by default) before it is deleted for good.
    /// Authors may delete their own, editors and admins every article. Honours `If-Match`.
    #[oai(
        path = "/articles/:id_or_slug",
        method = "delete",
        operation_id = "deleteArticle"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// The `ETag` (or the quoted `version`) the deletion is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Deleted, ArticleDeleteError> {
        let principal = &auth.0;
        let expected = IfMatch::parse(if_match.0.as_deref())?;
        let viewer = Viewer::User(principal.clone());
        let at = state.clock.now();
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        check_if_match(expected.as_ref(), &current)?;
        let draft = Status::from_db(&current.model.status) == Status::Draft;
        policy::decide(
            principal,
            Action::DeleteArticle,
            Some(Target::article(principal, &current.author_ids, draft)),
        )?;
        let version = expected.is_some().then_some(current.model.version);
        let by = crate::content::events::By::new(principal.user_id(), at);
        articles::trash(&state.db, &current, version, by).await?;
        tracing::info!(article = %current.model.id, by = %principal, "article moved to the trash");
        Ok(Deleted::NoContent)
    }

    /// List an article's revisions
    ///
    /// Newest first: who changed what, and when, with the article's fields after each
    /// change. For those who may edit the article.
    #[oai(
        path = "/articles/:id_or_slug/revisions",
        method = "get",
        operation_id = "listArticleRevisions"
    )]
    async fn revisions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<RevisionList>, RevisionListError> {
        let principal = &auth.0;
        let viewer = Viewer::User(principal.clone());
        let at = state.clock.now();
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        let draft = Status::from_db(&current.model.status) == Status::Draft;
        policy::decide(
            principal,
            Action::EditArticle,
            Some(Target::article(principal, &current.author_ids, draft)),
        )?;
        let params = page_params(limit.0, cursor.0, count.0);
        let page = workflow::revisions(&state.db, current.model.id, &params).await?;
        Ok(Found(RevisionList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .map(|r| Revision {
                    number: r.model.number,
                    action: r.model.action,
                    changed: r.changed,
                    user_id: r.model.user_id.into(),
                    created_at: r.model.created_at,
                    article: r.snapshot,
                })
                .collect(),
        }))
    }

    /// Restore a revision
    ///
    /// Puts the article's fields back as they were after revision `number`, as a new
    /// version with its own revision (`restore`). The same rules as an update apply
    /// (permissions, legal status changes, `If-Match`). A scheduled time that has passed
    /// since is restored as published.
    #[oai(
        path = "/articles/:id_or_slug/revisions/:number/restore",
        method = "post",
        operation_id = "restoreArticleRevision"
    )]
    async fn restore_revision(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id or slug.
        id_or_slug: Path<String>,
        /// The revision's number.
        #[oai(validator(minimum(value = "1")))]
        number: Path<i32>,
        /// The `ETag` (or the quoted `version`) the restore is based on; `*` for any.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<ArticleSaved, ArticleWriteError> {
        let at = state.clock.now();
        let viewer = Viewer::User(auth.0.clone());
        let current =
            articles::find_for_write(&state.db, &id_or_slug.0, visibility(&viewer), at).await?;
        let revision = workflow::revision(&state.db, current.model.id, number.0).await?;
        let snapshot = revision.snapshot;
        Ok(apply(
            &state,
            &auth.0,
            &current.model.id.to_string(),
            if_match.0.as_deref(),
            |_, at| {
                let mut update = snapshot.clone().into_update(at);
                // Whoever may not choose slugs keeps the current one.
                if made_slugs(&auth.0) == Made::Random {
                    update.slug = MaybeUndefined::Undefined;
                }
                Ok(update)
            },
            "restore",
        )
        .await?)
    }

    /// List the trash
    ///
    /// Editors and admins. Deleted articles, most recently deleted first, with the time each
    /// will be deleted for good unless restored.
    #[oai(path = "/trash/articles", method = "get", operation_id = "listTrash")]
    async fn trash(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u64>>,
        /// The `meta.next_cursor` of the previous page.
        #[oai(validator(max_length = 1024))]
        cursor: Query<Option<String>>,
        /// `true` adds `meta.total`.
        count: Query<Option<bool>>,
    ) -> Result<Found<TrashList>, TrashError> {
        require(&auth.0, Action::RestoreArticle)?;
        let params = page_params(limit.0, cursor.0, count.0);
        let retention = state.workflow.trash_retention;
        let page = workflow::trashed(&state.db, state.clock.now(), retention, &params).await?;
        let keep = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
        Ok(Found(TrashList {
            meta: ListMeta::of(&page, params.limit),
            data: page
                .items
                .into_iter()
                .filter_map(|m| {
                    let deleted_at = m.deleted_at?;
                    Some(TrashedArticle {
                        id: m.id,
                        slug: m.slug,
                        title: m.title,
                        status: Status::from_db(&m.status),
                        version: m.version,
                        deleted_at,
                        purge_at: deleted_at + keep,
                    })
                })
                .collect(),
        }))
    }

    /// Restore an article from the trash
    ///
    /// Editors and admins. The article comes back as it was, visible as before.
    #[oai(
        path = "/trash/articles/:id/restore",
        method = "post",
        operation_id = "restoreFromTrash"
    )]
    async fn untrash(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id.
        id: Path<Uuid>,
    ) -> Result<ArticleSaved, TrashError> {
        require(&auth.0, Action::RestoreArticle)?;
        let at = state.clock.now();
        let by = crate::content::events::By::new(auth.0.user_id(), at);
        let restored =
            workflow::restore(&state.db, id.0, by, state.workflow.trash_retention).await?;
        tracing::info!(article = %id.0, by = %auth.0, "article restored from the trash");
        Ok(saved(&state, restored, at).await?)
    }

    /// Delete an article for good
    ///
    /// Admins only, for an article in the trash: it goes with its revisions, old slugs
    /// and comments. This cannot be undone.
    #[oai(
        path = "/trash/articles/:id",
        method = "delete",
        operation_id = "purgeArticle"
    )]
    async fn purge(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The article's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, TrashError> {
        require(&auth.0, Action::PurgeArticle)?;
        workflow::purge(&state.db, id.0, super::by(&auth.0, &state)).await?;
        tracing::info!(article = %id.0, by = %auth.0, "article deleted for good");
        Ok(Deleted::NoContent)
    }
}
