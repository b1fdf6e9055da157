/* placeholder, replaced by the module's implementation */
int corral_mission__placeholder(void);
int corral_mission__placeholder(void) { return 0; }
