module workers

go 1.19

require mapscan/testdata/oracle v0.0.0

replace mapscan/testdata/oracle => ../../oracle
