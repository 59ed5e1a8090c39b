DROP FUNCTION gw_touch_updated_at();
DROP TYPE conversion_source;
DROP TYPE experiment_status;
DROP TYPE campaign_status;
DROP TYPE campaign_objective;
DROP TYPE clip_status;
DROP TYPE asset_status;
DROP TYPE user_role;
