/* placeholder, replaced by the module's implementation */
int corral_adapters__placeholder(void);
int corral_adapters__placeholder(void) { return 0; }
