//! What an operator sees of this instance on `--metrics-listen`:
//! - `series`: the series, and how the request path counts into them;
//! - `serve`: the HTTP listener that serves them as `GET /metrics`.

pub(crate) mod series;
pub(crate) mod serve;
