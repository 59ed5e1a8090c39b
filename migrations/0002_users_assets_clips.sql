-- Users with hashed API keys, their uploaded assets and the clips cut from them.
-- depends: 0001_base

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    name            text,
    role            user_role NOT NULL DEFAULT 'USER',
    -- SHA-256 of the API key: the plain key is only ever in the caller's hands.
    api_key_digest  bytea CHECK (octet_length(api_key_digest) = 32),
    settings        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- One account per address whatever its case; a soft-deleted row still holds its address.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_api_key_digest_key ON users (api_key_digest);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_created_at_idx ON users (created_at);
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();

CREATE TABLE assets (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- CASCADE: an asset is the user's content; erasing the user erases it.
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename        text NOT NULL CHECK (filename <> ''),
    original_name   text,
    mime_type       text,
    file_size       bigint CHECK (file_size >= 0),
    gcs_url         text NOT NULL CHECK (gcs_url <> ''),
    gcs_bucket      text,
    gcs_path        text,
    duration        double precision CHECK (duration >= 0),
    width           integer CHECK (width > 0),
    height          integer CHECK (height > 0),
    status          asset_status NOT NULL DEFAULT 'PENDING',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
CREATE INDEX assets_user_id_idx ON assets (user_id);
CREATE INDEX assets_status_idx ON assets (status);
CREATE INDEX assets_created_at_idx ON assets (created_at);
-- list_assets: a user's live assets, newest first.
CREATE INDEX assets_user_live_idx ON assets (user_id, created_at DESC, id)
    WHERE deleted_at IS NULL;
CREATE TRIGGER assets_touch_updated_at BEFORE UPDATE ON assets
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();

CREATE TABLE clips (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- CASCADE: a clip is a segment of its asset and means nothing without it.
    asset_id         uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    start_time       double precision NOT NULL CHECK (start_time >= 0),
    end_time         double precision NOT NULL,
    duration         double precision CHECK (duration >= 0),
    features         jsonb NOT NULL DEFAULT '{}'::jsonb,
    has_text         boolean NOT NULL DEFAULT false,
    has_speech       boolean NOT NULL DEFAULT false,
    score            double precision CHECK (score BETWEEN 0 AND 1),
    viral_score      double precision CHECK (viral_score BETWEEN 0 AND 1),
    engagement_score double precision CHECK (engagement_score BETWEEN 0 AND 1),
    rank             integer CHECK (rank >= 1),
    status           clip_status NOT NULL DEFAULT 'PENDING',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT clips_time_order CHECK (end_time > start_time)
);
CREATE INDEX clips_asset_id_idx ON clips (asset_id);
CREATE INDEX clips_status_idx ON clips (status);
CREATE INDEX clips_created_at_idx ON clips (created_at);
-- get_top_clips / list_assets: an asset's best live clips, read in index order.
CREATE INDEX clips_top_by_asset_idx ON clips (asset_id, score DESC, id)
    WHERE deleted_at IS NULL;
CREATE TRIGGER clips_touch_updated_at BEFORE UPDATE ON clips
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();
