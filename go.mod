module deskphone

go 1.26
