//! The routes.

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use crate::state::SharedState;
use crate::{cors, faults, ingest, read_api, responses, web};

/// All endpoints, with CORS around every one of them (the 404 fallback included).
/// `/__faults` exists only when faults are enabled, so it answers 404 otherwise.
/// The pages: `/inspector/` always; `/demo/` and the side-by-side page at `/` only with
/// `--demo-dir` (without it `/` redirects to the inspector and `/demo/` answers 404).
pub fn router(state: SharedState) -> Router {
    let mut router = Router::new()
        .route("/v1/runs/ingest", post(ingest::ingest))
        .route("/api/events", get(read_api::events))
        .route("/api/users", get(read_api::users))
        .route("/api/threads", get(read_api::threads))
        .route("/api/threads/{id}", get(read_api::thread))
        .route("/api/stats", get(read_api::stats))
        .route("/", get(web::root))
        .route("/inspector", get(web::to_inspector))
        .route("/inspector/", get(web::inspector))
        .route("/inspector/{name}", get(web::inspector_asset))
        .route("/demo", get(web::to_demo))
        .route("/demo/", get(web::demo_index))
        .route("/demo/{*path}", get(web::demo_path));
    if state.faults_enabled {
        router = router.route(
            "/__faults",
            post(faults::add_rule)
                .get(faults::list_rules)
                .delete(faults::clear_rules),
        );
    }
    router
        .fallback(responses::not_found)
        .with_state(state)
        .layer(middleware::from_fn(cors::cors))
}
