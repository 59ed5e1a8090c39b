DROP TABLE experiments;
DROP TABLE campaigns;
