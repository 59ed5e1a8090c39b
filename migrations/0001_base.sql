-- Types and helpers shared by every table.

CREATE TYPE user_role AS ENUM ('USER', 'ADMIN', 'ENTERPRISE');
CREATE TYPE asset_status AS ENUM ('PENDING', 'PROCESSING', 'READY', 'FAILED');
CREATE TYPE clip_status AS ENUM ('PENDING', 'SCORED', 'FAILED');
CREATE TYPE campaign_objective AS ENUM (
    'AWARENESS', 'TRAFFIC', 'ENGAGEMENT', 'LEADS', 'CONVERSIONS', 'SALES', 'APP_PROMOTION'
);
CREATE TYPE campaign_status AS ENUM ('DRAFT', 'ACTIVE', 'PAUSED', 'COMPLETED');
CREATE TYPE experiment_status AS ENUM ('RUNNING', 'COMPLETED', 'CANCELLED');
CREATE TYPE conversion_source AS ENUM ('META', 'GOOGLE', 'TIKTOK', 'MANUAL');

-- updated_at is the database's job: callers cannot forget it or set it wrong.
CREATE FUNCTION gw_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
