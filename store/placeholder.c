/* placeholder, replaced by the module's implementation */
int corral_store__placeholder(void);
int corral_store__placeholder(void) { return 0; }
