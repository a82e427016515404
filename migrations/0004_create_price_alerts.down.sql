DROP TABLE price_alerts;
