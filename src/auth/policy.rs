//! Who may do what, in one place: the matrix below is data, [`decide`] is the one
//! function every endpoint asks.
//!
//! "Own" means the user's linked author is in the article's byline. A user with no
//! linked author owns nothing.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::token::Principal;
use crate::error::ApiError;

/// A user's role.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users.
    Admin,
    /// All content: every article, publishers, authors and tags.
    Editor,
    /// Their own articles, published or not.
    Author,
    /// Drafts of their own only.
    Contributor,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Admin, Self::Editor, Self::Author, Self::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
            Self::Contributor => "contributor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "author" => Ok(Self::Author),
            "contributor" => Ok(Self::Contributor),
            other => Err(format!(
                "unknown role `{other}` (admin, editor, author, contributor)"
            )),
        }
    }
}

/// What an API key may do: a read scope, which acts as no account, or a role, with
/// which the key acts as its account. (In the permission matrix, a column: a
/// signed-in user's role is one too.)
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename = "ApiKeyScope")]
pub enum Grant {
    /// What an anonymous reader sees: public articles and everything public.
    #[oai(rename = "read:published")]
    ReadPublished,
    /// Reads drafts, scheduled and archived articles as an editor does; writes nothing.
    #[oai(rename = "read:preview")]
    ReadPreview,
    /// Reads the events feed (and what is public).
    #[oai(rename = "read:events")]
    ReadEvents,
    /// Acts as its account with the role `contributor`.
    #[oai(rename = "contributor")]
    Contributor,
    /// Acts as its account with the role `author`.
    #[oai(rename = "author")]
    Author,
    /// Acts as its account with the role `editor`.
    #[oai(rename = "editor")]
    Editor,
    /// Acts as its account with the role `admin`.
    #[oai(rename = "admin")]
    Admin,
}

impl Grant {
    pub const ALL: [Grant; 7] = [
        Self::Admin,
        Self::Editor,
        Self::Author,
        Self::Contributor,
        Self::ReadPublished,
        Self::ReadPreview,
        Self::ReadEvents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadPublished => "read:published",
            Self::ReadPreview => "read:preview",
            Self::ReadEvents => "read:events",
            Self::Contributor => "contributor",
            Self::Author => "author",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }

    /// The role it acts with; `None` for a read scope, which acts as no account.
    pub fn role(self) -> Option<Role> {
        match self {
            Self::Admin => Some(Role::Admin),
            Self::Editor => Some(Role::Editor),
            Self::Author => Some(Role::Author),
            Self::Contributor => Some(Role::Contributor),
            Self::ReadPublished | Self::ReadPreview | Self::ReadEvents => None,
        }
    }

    fn column(self) -> usize {
        match self {
            Self::Admin => 0,
            Self::Editor => 1,
            Self::Author => 2,
            Self::Contributor => 3,
            Self::ReadPublished => 4,
            Self::ReadPreview => 5,
            Self::ReadEvents => 6,
        }
    }
}

/// Written as the API writes it (`read:published`, `editor`, …).
impl Serialize for Grant {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl From<Role> for Grant {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Editor => Self::Editor,
            Role::Author => Self::Author,
            Role::Contributor => Self::Contributor,
        }
    }
}

impl std::str::FromStr for Grant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| format!("unknown API key scope `{s}`"))
    }
}

impl Role {
    /// How much it may do, for comparing roles: admin 3 … contributor 0.
    pub fn rank(self) -> u8 {
        match self {
            Self::Admin => 3,
            Self::Editor => 2,
            Self::Author => 1,
            Self::Contributor => 0,
        }
    }
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read drafts, scheduled (not yet public) and archived articles.
    ReadUnpublished,
    /// Create an article.
    CreateArticle,
    /// Change an article's fields.
    EditArticle,
    /// Choose an article's slug (on create or update) and get made slugs with the
    /// first free suffix: a slug's fate tells which slugs are taken, so only roles
    /// that can read every article, the trash included, may learn it.
    ChooseSlug,
    /// Change an article's status: publish, schedule, archive, or back to draft.
    PublishArticle,
    /// Move an article to the trash.
    DeleteArticle,
    /// See the trash and restore an article from it.
    RestoreArticle,
    /// Delete an article for good.
    PurgeArticle,
    /// List, approve, mark as spam and delete readers' comments.
    ModerateComments,
    /// Create, edit or delete publishers, authors and tags.
    ManageTaxonomy,
    /// List, create, change and delete user accounts.
    ManageUsers,
    /// Read the events feed (every change, drafts included).
    ReadEvents,
    /// Make and revoke an article's draft-preview links (which show it, whatever its
    /// status, to anyone holding one).
    PreviewLink,
    /// Register, change, test and delete webhooks; see and retry their deliveries.
    ManageWebhooks,
    /// Upload images to the media library and browse it.
    UploadMedia,
    /// Change an asset's metadata (credit, caption, alt text, focal point…); "own"
    /// means the user uploaded it, and "draft" that nothing readers see shows it (a
    /// published story's figure or featured photo, an author's portrait, a logo).
    EditMedia,
    /// Delete an asset (refused while anything uses it).
    DeleteMedia,
    /// Create, list, read and revoke API keys.
    ManageApiKeys,
    /// See the account the request acts as (`GET /auth/me`): read-scoped API keys act
    /// as none.
    ReadAccount,
}

/// How far a role's permission for an action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    No,
    /// Articles with the user's author in the byline, while they are drafts.
    OwnDrafts,
    /// Articles with the user's author in the byline (media: that the user uploaded).
    Own,
    All,
}

use Scope::{All, No, Own, OwnDrafts};

/// The matrix: for each action, the scope of the roles admin, editor, author,
/// contributor, then of the API key read scopes `read:published`, `read:preview`,
/// `read:events`. (A key scoped to a role has that role's column.)
const MATRIX: &[(Action, [Scope; 7])] = &[
    //                          admin editor author contributor  published preview events
    (Action::ReadUnpublished, [All, All, Own, Own, No, All, No]),
    (
        Action::CreateArticle,
        [All, All, Own, OwnDrafts, No, No, No],
    ),
    (Action::EditArticle, [All, All, Own, OwnDrafts, No, No, No]),
    (Action::ChooseSlug, [All, All, No, No, No, No, No]),
    (Action::PublishArticle, [All, All, Own, No, No, No, No]),
    (Action::DeleteArticle, [All, All, Own, No, No, No, No]),
    (Action::RestoreArticle, [All, All, No, No, No, No, No]),
    (Action::PurgeArticle, [All, No, No, No, No, No, No]),
    (Action::ModerateComments, [All, All, No, No, No, No, No]),
    (Action::ManageTaxonomy, [All, All, No, No, No, No, No]),
    (Action::ManageUsers, [All, No, No, No, No, No, No]),
    (Action::ReadEvents, [All, All, No, No, No, No, All]),
    (Action::PreviewLink, [All, All, No, No, No, No, No]),
    (Action::ManageWebhooks, [All, No, No, No, No, No, No]),
    (Action::UploadMedia, [All, All, All, All, No, No, No]),
    (
        Action::EditMedia,
        [All, All, OwnDrafts, OwnDrafts, No, No, No],
    ),
    (Action::DeleteMedia, [All, All, No, No, No, No, No]),
    (Action::ManageApiKeys, [All, No, No, No, No, No, No]),
    (Action::ReadAccount, [All, All, All, All, No, No, No]),
];

/// The scope `grant` (a role, or an API key's scope) has for `action`.
pub fn scope(grant: impl Into<Grant>, action: Action) -> Scope {
    let grant = grant.into();
    MATRIX
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(No, |(_, scopes)| scopes[grant.column()])
}

/// The article an action is about, as far as permissions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target {
    /// The actor's author is in the byline.
    pub own: bool,
    /// The article is (or, for a create, will be) a draft.
    pub draft: bool,
}

impl Target {
    /// The target for `principal` acting on a media asset uploaded by `uploader`,
    /// which readers see somewhere (`shown`) or not yet.
    pub fn media(principal: &Principal, uploader: Option<Uuid>, shown: bool) -> Self {
        Self {
            own: uploader.is_some() && uploader == principal.user_id(),
            draft: !shown,
        }
    }

    /// The target for `principal` acting on an article with this byline and status.
    pub fn article(principal: &Principal, byline: &[Uuid], draft: bool) -> Self {
        Self {
            own: principal
                .author_id()
                .is_some_and(|author| byline.contains(&author)),
            draft,
        }
    }
}

/// Whether `principal` may do `action` (to `target`, for article actions); the
/// 403 says what was missing.
pub fn decide(
    principal: &Principal,
    action: Action,
    target: Option<Target>,
) -> Result<(), ApiError> {
    let grant = principal.grant;
    let target = target.unwrap_or_default();
    let allowed = match scope(grant, action) {
        All => true,
        Own => target.own,
        OwnDrafts => target.own && target.draft,
        No => false,
    };
    if allowed {
        return Ok(());
    }
    let what = match action {
        Action::ReadUnpublished => "read unpublished articles",
        Action::CreateArticle => "create articles",
        Action::EditArticle => "edit articles",
        Action::ChooseSlug => {
            "choose an article's slug (leave `slug` out and one is made from the title)"
        }
        Action::PublishArticle => "change the status of articles (publish, schedule, archive)",
        Action::DeleteArticle => "delete articles",
        Action::RestoreArticle => "see or restore articles in the trash",
        Action::PurgeArticle => "delete articles for good",
        Action::ModerateComments => "moderate comments",
        Action::ManageTaxonomy => "create, edit or delete publishers, authors and tags",
        Action::ManageUsers => "manage users",
        Action::ReadEvents => "read the events feed",
        Action::PreviewLink => "make or revoke preview links",
        Action::ManageWebhooks => "manage webhooks",
        Action::UploadMedia => "upload media",
        Action::EditMedia => "edit media",
        Action::DeleteMedia => "delete media",
        Action::ManageApiKeys => "manage API keys",
        Action::ReadAccount => "see the account it acts as (a read-scoped key acts as none)",
    };
    // A key's refusal names its scope and the scopes that may; a user's their role
    // and the roles that may.
    let (who, others, kind) = if principal.key.is_some() {
        (
            format!("An API key with the scope `{}`", grant.as_str()),
            Grant::ALL.to_vec(),
            "scopes",
        )
    } else {
        (
            format!("The role `{}`", grant.as_str()),
            Role::ALL.iter().map(|r| Grant::from(*r)).collect(),
            "roles",
        )
    };
    let detail = match scope(grant, action) {
        No => {
            let may: Vec<&str> = others
                .iter()
                .filter(|g| scope(**g, action) != No)
                .map(|g| g.as_str())
                .collect();
            format!(
                "{who} may not {what}; the {kind} that may: {}.",
                may.join(", ")
            )
        }
        _ if action == Action::EditMedia && !target.own => {
            format!("{who} may edit only the media they uploaded.")
        }
        _ if action == Action::EditMedia => format!(
            "{who} may edit the media they uploaded only while readers see it \
             nowhere; it is in a published story (or an author's or publisher's picture), so \
             an editor may change it."
        ),
        _ if principal.author_id().is_none() => format!(
            "{who} may {what} only with their own author in the byline, and this \
             account is not linked to an author; an admin can link it (`author_id`)."
        ),
        Own => {
            format!("{who} may {what} only with their own author in the byline.")
        }
        _ if !target.own => {
            format!("{who} may {what} only with their own author in the byline, and only drafts.")
        }
        _ => format!("{who} may {what} only while they are drafts."),
    };
    Err(ApiError::Forbidden(detail))
}

/// Which articles a reader sees besides the public ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Only articles that are public now.
    Public,
    /// Public articles and every article with this author in the byline.
    PublicAndOwn(Uuid),
    /// Every article.
    All,
}

/// What `principal` (or an anonymous reader, for `None`) may read.
pub fn visibility(principal: Option<&Principal>) -> Visibility {
    let Some(p) = principal else {
        return Visibility::Public;
    };
    match (scope(p.grant, Action::ReadUnpublished), p.author_id()) {
        (All, _) => Visibility::All,
        (Own | OwnDrafts, Some(author)) => Visibility::PublicAndOwn(author),
        _ => Visibility::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn principal(role: Role, author: Option<Uuid>) -> Principal {
        Principal::user(
            entity::user::Model {
                id: Uuid::now_v7(),
                email: "x@example.com".into(),
                password_hash: String::new(),
                role: role.as_str().into(),
                author_id: author,
                disabled: false,
                tokens_valid_from: Utc::now(),
                credential_version: 0,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            role,
        )
    }

    fn key(grant: Grant) -> Principal {
        Principal {
            user: None,
            grant,
            key: Some(Uuid::now_v7()),
        }
    }

    #[test]
    fn every_action_has_a_row() {
        for action in [
            Action::ReadUnpublished,
            Action::CreateArticle,
            Action::EditArticle,
            Action::PublishArticle,
            Action::DeleteArticle,
            Action::RestoreArticle,
            Action::PurgeArticle,
            Action::ModerateComments,
            Action::ManageTaxonomy,
            Action::ManageUsers,
            Action::ReadEvents,
            Action::PreviewLink,
            Action::ManageWebhooks,
            Action::UploadMedia,
            Action::EditMedia,
            Action::DeleteMedia,
            Action::ManageApiKeys,
            Action::ReadAccount,
        ] {
            assert_eq!(MATRIX.iter().filter(|(a, _)| *a == action).count(), 1);
        }
    }

    #[test]
    fn read_scopes_read_and_never_write() {
        for (action, _) in MATRIX {
            let published = scope(Grant::ReadPublished, *action);
            let preview = scope(Grant::ReadPreview, *action);
            let events = scope(Grant::ReadEvents, *action);
            let reads = matches!(action, Action::ReadUnpublished | Action::ReadEvents);
            if !reads {
                assert_eq!((published, preview, events), (No, No, No), "{action:?}");
            }
        }
        assert_eq!(scope(Grant::ReadPreview, Action::ReadUnpublished), All);
        assert_eq!(scope(Grant::ReadPublished, Action::ReadUnpublished), No);
        assert_eq!(scope(Grant::ReadEvents, Action::ReadEvents), All);
        assert_eq!(visibility(Some(&key(Grant::ReadPreview))), Visibility::All);
        assert_eq!(
            visibility(Some(&key(Grant::ReadPublished))),
            Visibility::Public
        );
        assert_eq!(
            visibility(Some(&key(Grant::ReadEvents))),
            Visibility::Public
        );
    }

    #[test]
    fn a_role_key_has_its_role_column() {
        for role in Role::ALL {
            for (action, _) in MATRIX {
                assert_eq!(scope(role, *action), scope(Grant::from(role), *action));
            }
            assert_eq!(Grant::from(role).role(), Some(role));
            assert_eq!(
                Grant::from(role).as_str().parse::<Grant>(),
                Ok(Grant::from(role))
            );
        }
    }

    #[test]
    fn a_key_refusal_names_the_scopes_that_may() {
        let err = decide(&key(Grant::ReadPublished), Action::ReadEvents, None).unwrap_err();
        assert_eq!(
            err.problem().detail,
            "An API key with the scope `read:published` may not read the events feed; the \
             scopes that may: admin, editor, read:events."
        );
        let err = decide(&key(Grant::ReadPreview), Action::EditArticle, None).unwrap_err();
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn own_follows_the_linked_author() {
        let me = Uuid::now_v7();
        let author = principal(Role::Author, Some(me));
        let own = Target::article(&author, &[Uuid::now_v7(), me], false);
        let theirs = Target::article(&author, &[Uuid::now_v7()], false);
        assert!(decide(&author, Action::PublishArticle, Some(own)).is_ok());
        assert!(decide(&author, Action::PublishArticle, Some(theirs)).is_err());
        let unlinked = principal(Role::Author, None);
        let t = Target::article(&unlinked, &[me], true);
        let err = decide(&unlinked, Action::EditArticle, Some(t)).unwrap_err();
        assert!(err.problem().detail.contains("not linked"), "{err}");
    }

    #[test]
    fn contributors_touch_their_own_drafts_only() {
        let me = Uuid::now_v7();
        let c = principal(Role::Contributor, Some(me));
        let draft = Target {
            own: true,
            draft: true,
        };
        let published = Target {
            own: true,
            draft: false,
        };
        assert!(decide(&c, Action::EditArticle, Some(draft)).is_ok());
        assert!(decide(&c, Action::EditArticle, Some(published)).is_err());
        assert!(decide(&c, Action::PublishArticle, Some(draft)).is_err());
        assert!(decide(&c, Action::DeleteArticle, Some(draft)).is_err());
        assert_eq!(visibility(Some(&c)), Visibility::PublicAndOwn(me));
    }

    #[test]
    fn refusals_name_who_may() {
        let editor = principal(Role::Editor, None);
        let err = decide(&editor, Action::ManageUsers, None).unwrap_err();
        assert_eq!(
            err.problem().detail,
            "The role `editor` may not manage users; the roles that may: admin."
        );
        assert_eq!(visibility(Some(&editor)), Visibility::All);
        assert_eq!(visibility(None), Visibility::Public);
    }
}
