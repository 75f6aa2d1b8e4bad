"""Software (publishers, products, licences) comes with the launcher; nothing here yet."""
