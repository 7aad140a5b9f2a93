DROP TABLE dances;
