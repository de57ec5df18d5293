/* (SwiftPM wants an include folder for C targets.) */
