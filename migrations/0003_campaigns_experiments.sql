-- Ad campaigns with their delivery metrics, and the A/B experiments run inside them.
-- depends: 0002_users_assets_clips

CREATE TABLE campaigns (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- CASCADE: campaigns are the user's; erasing the user erases them (unless their
    -- conversions refuse it, see conversions.campaign_id).
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (name <> ''),
    objective           campaign_objective NOT NULL,
    budget              numeric(14, 2) NOT NULL CHECK (budget >= 0),
    daily_budget        numeric(14, 2) CHECK (daily_budget >= 0),
    status              campaign_status NOT NULL DEFAULT 'DRAFT',
    meta_campaign_id    text,
    google_campaign_id  text,
    target_audience     jsonb NOT NULL DEFAULT '{}'::jsonb,
    start_date          timestamptz,
    end_date            timestamptz,
    total_spend         numeric(14, 2) NOT NULL DEFAULT 0 CHECK (total_spend >= 0),
    total_impressions   bigint NOT NULL DEFAULT 0 CHECK (total_impressions >= 0),
    total_clicks        bigint NOT NULL DEFAULT 0 CHECK (total_clicks >= 0),
    total_conversions   bigint NOT NULL DEFAULT 0 CHECK (total_conversions >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CONSTRAINT campaigns_date_order CHECK (end_date >= start_date)
);
CREATE INDEX campaigns_user_id_idx ON campaigns (user_id);
CREATE INDEX campaigns_status_idx ON campaigns (status);
CREATE INDEX campaigns_created_at_idx ON campaigns (created_at);
CREATE UNIQUE INDEX campaigns_meta_campaign_id_key ON campaigns (meta_campaign_id);
CREATE UNIQUE INDEX campaigns_google_campaign_id_key ON campaigns (google_campaign_id);
CREATE TRIGGER campaigns_touch_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();

CREATE TABLE experiments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- CASCADE: an experiment only exists inside its campaign.
    campaign_id        uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (name <> ''),
    status             experiment_status NOT NULL DEFAULT 'RUNNING',
    variants           jsonb NOT NULL
        CHECK (jsonb_typeof(variants) = 'array' AND jsonb_array_length(variants) >= 2),
    winner_variant_id  text,
    confidence         double precision CHECK (confidence BETWEEN 0 AND 1),
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experiments_completed_has_winner CHECK (
        status <> 'COMPLETED'
        OR (winner_variant_id IS NOT NULL AND completed_at IS NOT NULL AND confidence IS NOT NULL)
    )
);
CREATE INDEX experiments_campaign_id_idx ON experiments (campaign_id);
CREATE INDEX experiments_status_idx ON experiments (status);
CREATE INDEX experiments_created_at_idx ON experiments (created_at);
CREATE TRIGGER experiments_touch_updated_at BEFORE UPDATE ON experiments
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();
