//! Access control (DESIGN §8): a token generated on first start and stored 0600 in the home,
//! required on every API route, server function and page, as `Authorization: Bearer` or as
//! the HttpOnly SameSite=Strict cookie that the printed login URL sets; and an Origin check
//! on state-changing requests.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ApiError;

/// The token file's name in the home.
pub const TOKEN_FILE: &str = "server-token";
/// The cookie carrying the token.
pub const COOKIE: &str = "skillmeat_token";

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

/// The token a request presents, from its Authorization header or its cookie.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim());
    }
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

/// Paths anyone may fetch: the static bundle, the liveness check and the login page itself.
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
pub async fn guard(State(token): State<std::sync::Arc<str>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if public(path) {
        return next.run(req).await;
    }
    let authorised = presented(req.headers()).is_some_and(|t| same(t.as_bytes(), token.as_bytes()));
    if !authorised {
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
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !origin_ok(req.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "this request came from another site's page; it was refused",
        )
        .into_response();
    }
    next.run(req).await
}

/// `/login`'s query.
#[derive(Debug, Deserialize)]
pub struct Login {
    token: Option<String>,
}

/// Sets the cookie when the token is right, then goes to the app.
pub async fn login(
    State(token): State<std::sync::Arc<str>>,
    query: Result<Query<Login>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let given = query.ok().and_then(|Query(l)| l.token).unwrap_or_default();
    if !same(given.as_bytes(), token.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_HELP)).into_response();
    }
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
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
    fn tokens_come_from_the_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; skillmeat_token=xyz"),
        );
        assert_eq!(presented(&h), Some("xyz"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(presented(&h), Some("abc"));
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
