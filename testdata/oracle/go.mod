module mapscan/testdata/oracle

go 1.19
