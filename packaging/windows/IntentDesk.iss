; Inno Setup script: the Windows installer of the one-folder app PyInstaller builds from build.spec.
; Built by .github/workflows/installers.yml:  iscc /DVersion=0.1.0 packaging\windows\IntentDesk.iss
; Installs for the current user (no administrator rights), with a Start menu entry, an optional desktop
; icon and an uninstaller. Datasets and models stay in the user's data folder (uninstalling keeps them).
#ifndef Version
  #define Version "0.1.0"
#endif

[Setup]
AppId={{6E1C2B0A-3D4F-4E59-9A51-1D2E3F405162}
AppName=IntentDesk
AppVersion={#Version}
AppPublisher=IntentDesk
DefaultDirName={autopf}\IntentDesk
DefaultGroupName=IntentDesk
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=IntentDesk-{#Version}-windows-x64-setup
Compression=lzma2/ultra64
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\IntentDesk.exe

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\IntentDesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\IntentDesk"; Filename: "{app}\IntentDesk.exe"
Name: "{group}\Uninstall IntentDesk"; Filename: "{uninstallexe}"
Name: "{autodesktop}\IntentDesk"; Filename: "{app}\IntentDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\IntentDesk.exe"; Description: "{cm:LaunchProgram,IntentDesk}"; Flags: nowait postinstall skipifsilent
