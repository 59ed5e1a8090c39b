DROP TABLE conversions;
DROP TABLE predictions;
