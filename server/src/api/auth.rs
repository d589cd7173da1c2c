//! Access control (DESIGN §8): a token generated on first start and stored 0600 in the home,
//! required on every API route, server function and page as `Authorization: Bearer`; browsers
//! log in once with it (the printed login URL) and get a *session* of their own instead: a
//! random id in an HttpOnly SameSite=Strict cookie, valid for [`SESSION_LIFETIME`], renewed
//! under a new id past half of it, ended by `POST /logout`. The token itself never sits in a
//! cookie. Sessions live in the server's memory: a restart logs browsers out. State-changing
//! requests also pass an Origin check.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ApiError;

/// The token file's name in the home.
pub const TOKEN_FILE: &str = "server-token";
/// The cookie carrying the token.
pub const COOKIE: &str = "skillmeat_session";

/// How long a browser session lasts from its login (or its last renewal).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// How long a renewed session's old id keeps working, for requests already on their way.
const RENEWAL_GRACE: Duration = Duration::from_secs(60);

/// The server token and the browser sessions opened with it.
#[derive(Debug)]
pub struct Auth {
    token: Arc<str>,
    sessions: Mutex<HashMap<String, Instant>>,
}

/// What a request was authorised by.
enum Credential {
    Token,
    /// A session id and when it expires.
    Session(String, Instant),
}

impl Auth {
    /// Access control for `token`, with no sessions yet.
    pub fn new(token: &str) -> Arc<Self> {
        Arc::new(Self {
            token: Arc::from(token),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new session id, valid for [`SESSION_LIFETIME`].
    fn open_session(&self) -> std::io::Result<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.sessions();
        sessions.retain(|_, expires| *expires > now);
        sessions.insert(id.clone(), now + SESSION_LIFETIME);
        Ok(id)
    }

    fn check(&self, headers: &HeaderMap) -> Option<Credential> {
        if let Some(bearer) = bearer(headers) {
            return same(bearer.as_bytes(), self.token.as_bytes()).then_some(Credential::Token);
        }
        let id = session_cookie(headers)?;
        let expires = *self.sessions().get(id)?;
        (expires > Instant::now()).then(|| Credential::Session(id.to_owned(), expires))
    }

    fn close_session(&self, id: &str) {
        self.sessions().remove(id);
    }

    /// A fresh id for a session past half its life; the old id ends after a short grace.
    fn renew(&self, old: &str) -> Option<String> {
        let new = self.open_session().ok()?;
        if let Some(expires) = self.sessions().get_mut(old) {
            *expires = (*expires).min(Instant::now() + RENEWAL_GRACE);
        }
        Some(new)
    }
}

fn session_set_cookie(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    ))
    .ok()
}

/// The token file of `home`.
pub fn token_path(home: &Path) -> PathBuf {
    home.join(TOKEN_FILE)
}

/// Reads the home's token, creating it (0600, 256 random bits) if there is none. Returns the
/// token and whether it was created now. A token file others can read is made private again.
pub fn load_or_create_token(home: &Path) -> std::io::Result<(String, bool)> {
    let path = token_path(home);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim().to_owned();
            if token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
                let mode = fs::metadata(&path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        "{} was readable by others; made it private (0600)",
                        path.display()
                    );
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
                }
                return Ok((token, false));
            }
            tracing::warn!("{} is not a valid token; writing a new one", path.display());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::create_dir_all(home)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written private from the start, then renamed into place: never readable by others,
    // never half-written.
    let tmp = home.join(format!(".{TOKEN_FILE}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, &path)?;
    Ok((token, true))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a request presents in its Authorization header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

fn public(path: &str) -> bool {
    path == "/healthz" || path == "/login" || path == "/favicon.svg" || path.starts_with("/pkg/")
}

/// Whether the request is an API call or server function (answered in JSON) rather than a page.
fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with(skillmeat_app::api::SERVER_FN_PREFIX)
}

/// The Origin check: a browser's state-changing request must come from this server's own
/// pages. Requests without Origin (scripts, curl) carry the token explicitly instead.
fn origin_ok(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .to_str()
        .is_ok_and(|o| o == format!("http://{host}") || o == format!("https://{host}"))
}

const LOGIN_HELP: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Log in · SkillMeat</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;\
margin:4rem auto;padding:0 1rem;color:#1f2328}code{background:#f3f4f6;padding:.1rem .3rem;\
border-radius:4px}</style></head><body><h1>Log in to SkillMeat</h1><p>This server only answers \
its owner. Open the <strong>login URL</strong> that <code>skillmeat serve</code> printed when it \
started (it sets a cookie in this browser, once).</p><p>Lost it? The token is in \
<code>$SKILLMEAT_HOME/server-token</code>: open <code>/login?token=&lt;token&gt;</code>.</p>\
</body></html>";

/// The middleware guarding everything but [`public`] paths.
pub async fn guard(State(auth): State<Arc<Auth>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if public(path) {
        return next.run(req).await;
    }
    let Some(credential) = auth.check(req.headers()) else {
        if wants_json(path) {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the server token as `Authorization: Bearer <token>` (it is in \
                 $SKILLMEAT_HOME/server-token), or log in with the URL `skillmeat serve` printed",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_HELP)).into_response();
    };
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !origin_ok(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "this request came from another site's page; it was refused",
        )
        .into_response();
    }
    let mut response = next.run(req).await;
    if let Credential::Session(id, expires) = credential
        && expires.saturating_duration_since(Instant::now()) < SESSION_LIFETIME / 2
        && let Some(cookie) = auth.renew(&id).as_deref().and_then(session_set_cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct Login {
    token: Option<String>,
}

/// `GET /login?token=…`: opens a browser session and lands on the app.
pub async fn login(
    State(auth): State<Arc<Auth>>,
    query: Result<Query<Login>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let given = query.ok().and_then(|Query(l)| l.token).unwrap_or_default();
    if !same(given.as_bytes(), auth.token.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_HELP)).into_response();
    }
    let cookie = match auth.open_session() {
        Ok(id) => session_set_cookie(&id),
        Err(e) => return ApiError::internal(format!("cannot open a session: {e}")).into_response(),
    };
    let mut response = Redirect::to("/").into_response();
    if let Some(v) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `POST /logout`: ends the browser's session (it needs the login URL again).
pub async fn logout(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        auth.close_session(id);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "skillmeat_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_created_private_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_token(dir.path()).unwrap();
        assert!(created);
        assert_eq!(first.len(), 64);
        let mode = fs::metadata(token_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = load_or_create_token(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again, first);
        fs::set_permissions(token_path(dir.path()), fs::Permissions::from_mode(0o644)).unwrap();
        load_or_create_token(dir.path()).unwrap();
        let mode = fs::metadata(token_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn sessions_open_expire_renew_and_close() {
        let auth = Auth::new("t0ken");
        let mut h = HeaderMap::new();
        assert!(auth.check(&h).is_none());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t0ken"),
        );
        assert!(matches!(auth.check(&h), Some(Credential::Token)));
        // The token in a cookie is not a session.
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}=t0ken")).unwrap(),
        );
        assert!(auth.check(&h).is_none());
        let id = auth.open_session().unwrap();
        assert_ne!(
            id,
            auth.open_session().unwrap(),
            "each login gets its own id"
        );
        let cookie = |id: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(&format!("a=b; {COOKIE}={id}")).unwrap(),
            );
            h
        };
        assert!(matches!(
            auth.check(&cookie(&id)),
            Some(Credential::Session(..))
        ));
        let new = auth.renew(&id).unwrap();
        assert!(auth.check(&cookie(&new)).is_some());
        let (_, old_expires) = match auth.check(&cookie(&id)) {
            Some(Credential::Session(i, e)) => (i, e),
            _ => panic!("the old id works during the grace"),
        };
        assert!(old_expires <= Instant::now() + RENEWAL_GRACE);
        auth.close_session(&new);
        assert!(auth.check(&cookie(&new)).is_none());
        // An expired session is refused.
        auth.sessions().insert("old".into(), Instant::now());
        assert!(auth.check(&cookie("old")).is_none());
    }
}
