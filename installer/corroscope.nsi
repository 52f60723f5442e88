; NSIS 3 script: the Windows installer of the one-folder build dist\windows\corroscope\, made on Linux by
; `scripts/build-windows` (makensis is a native Linux program). A 64-bit, per-user installer: no
; administrator rights, installs under %LOCALAPPDATA%\Programs\Corroscope, a Start-menu entry, "Open with"
; for photos (the default program of a type is never changed), and an uninstaller.
;   makensis -DVERSION=0.1.0 -DSOURCE=dist/windows/corroscope -DOUTFILE=dist/windows/Corroscope-Setup-0.1.0.exe installer/corroscope.nsi
; Silent install: `Corroscope-Setup-0.1.0.exe /S` (optionally `/D=C:\path`, last); silent uninstall: `uninstall.exe /S`.

Unicode true
Target amd64-unicode
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef SOURCE
  !error "give -DSOURCE=<the one-folder build>"
!endif
!ifndef OUTFILE
  !define OUTFILE "Corroscope-Setup-${VERSION}.exe"
!endif
!define APP "Corroscope"
!define GUI_EXE "corroscope-gui.exe"
!define PROGID "Corroscope.Photo"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "Software\${APP}" "InstallDir"
Icon "..\resources\icons\corroscope.ico"
UninstallIcon "..\resources\icons\corroscope.ico"
ShowInstDetails nevershow

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

!macro OpenWith EXT
  WriteRegStr HKCU "Software\Classes\${EXT}\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKCU "Software\Classes\Applications\${GUI_EXE}\SupportedTypes" "${EXT}" ""
!macroend
!macro NoOpenWith EXT
  DeleteRegValue HKCU "Software\Classes\${EXT}\OpenWithProgids" "${PROGID}"
!macroend

Section "Corroscope"
  ; A new version replaces the old folder's libraries (their names change between versions).
  RMDir /r "$INSTDIR\_internal"
  SetOutPath "$INSTDIR"
  File /r "${SOURCE}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortcut "$SMPROGRAMS\${APP}\${APP}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}" 0
  CreateShortcut "$SMPROGRAMS\${APP}\Uninstall ${APP}.lnk" "$INSTDIR\uninstall.exe"
  WriteRegStr HKCU "Software\${APP}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "Software\Classes\${PROGID}" "" "Photo (${APP})"
  WriteRegStr HKCU "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\${GUI_EXE},0"
  WriteRegStr HKCU "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
  WriteRegStr HKCU "Software\Classes\Applications\${GUI_EXE}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
  !insertmacro OpenWith ".jpg"
  !insertmacro OpenWith ".jpeg"
  !insertmacro OpenWith ".png"
  !insertmacro OpenWith ".tif"
  !insertmacro OpenWith ".tiff"
  !insertmacro OpenWith ".bmp"
  !insertmacro OpenWith ".webp"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP} ${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${APP}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${GUI_EXE}"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\corroscope.exe"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir /r "$SMPROGRAMS\${APP}"
  !insertmacro NoOpenWith ".jpg"
  !insertmacro NoOpenWith ".jpeg"
  !insertmacro NoOpenWith ".png"
  !insertmacro NoOpenWith ".tif"
  !insertmacro NoOpenWith ".tiff"
  !insertmacro NoOpenWith ".bmp"
  !insertmacro NoOpenWith ".webp"
  DeleteRegKey HKCU "Software\Classes\${PROGID}"
  DeleteRegKey HKCU "Software\Classes\Applications\${GUI_EXE}"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\${APP}"
SectionEnd
