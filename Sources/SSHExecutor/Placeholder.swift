enum SSHPlaceholder {}
