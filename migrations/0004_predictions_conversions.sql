-- ML predictions per clip, and the conversions reported by the ad platforms.
-- depends: 0003_campaigns_experiments

CREATE TABLE predictions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- CASCADE: a prediction is about one clip and is meaningless once the clip is gone.
    clip_id           uuid NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
    model_version     text NOT NULL CHECK (model_version <> ''),
    -- Model estimates and measured rates are statistics, not ledger amounts: floats.
    predicted_roas    double precision CHECK (predicted_roas >= 0),
    predicted_ctr     double precision CHECK (predicted_ctr BETWEEN 0 AND 1),
    predicted_cpc     double precision CHECK (predicted_cpc >= 0),
    features          jsonb NOT NULL DEFAULT '{}'::jsonb,
    confidence        double precision CHECK (confidence BETWEEN 0 AND 1),
    actual_roas       double precision CHECK (actual_roas >= 0),
    actual_ctr        double precision CHECK (actual_ctr BETWEEN 0 AND 1),
    actual_cpc        double precision CHECK (actual_cpc >= 0),
    prediction_error  double precision CHECK (prediction_error >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX predictions_clip_id_idx ON predictions (clip_id);
CREATE INDEX predictions_created_at_idx ON predictions (created_at);
CREATE TRIGGER predictions_touch_updated_at BEFORE UPDATE ON predictions
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();

CREATE TABLE conversions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- RESTRICT: conversions are revenue records; a campaign that has any cannot be
    -- hard-deleted (soft-delete it instead).
    campaign_id         uuid NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    source              conversion_source NOT NULL,
    external_id         text CHECK (external_id <> ''),
    value               numeric(14, 2) NOT NULL CHECK (value >= 0),
    currency            text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    -- SET NULL: removing a clip loses the attribution, not the revenue.
    attributed_clip_id  uuid REFERENCES clips (id) ON DELETE SET NULL,
    "timestamp"         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- A redelivered platform event can never be counted twice.
    CONSTRAINT conversions_source_external_id_key UNIQUE (source, external_id)
);
CREATE INDEX conversions_attributed_clip_id_idx ON conversions (attributed_clip_id);
CREATE INDEX conversions_created_at_idx ON conversions (created_at);
-- list_conversions / iter_conversions: a campaign's range in (timestamp, id) keyset order.
-- Its leading column also serves the campaign_id foreign key.
CREATE INDEX conversions_campaign_time_idx ON conversions (campaign_id, "timestamp", id);
CREATE TRIGGER conversions_touch_updated_at BEFORE UPDATE ON conversions
    FOR EACH ROW EXECUTE FUNCTION gw_touch_updated_at();
