module httpsessions

go 1.19

require (
	github.com/gorilla/securecookie v1.1.1
	github.com/gorilla/sessions v1.2.1
	mapscan/testdata/oracle v0.0.0
)

replace mapscan/testdata/oracle => ../../oracle
